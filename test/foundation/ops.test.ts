import { describe, expect, inject, it } from 'vitest';
import { validate } from '@readme/openapi-parser';
import { createTestApp } from '../helpers/app.js';

describe('operations endpoints', () => {
  const { http, deps } = createTestApp();

  it('GET /health answers without touching dependencies', async () => {
    const response = await http.get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('GET /ready is 200 with every check ok', async () => {
    const response = await http.get('/ready');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ready',
      checks: { database: 'ok', migrations: 'ok', redis: 'ok' },
    });
  });

  it('GET /ready is 503 once shutdown begins', async () => {
    deps.lifecycle.shuttingDown = true;
    try {
      const response = await http.get('/ready');
      expect(response.status).toBe(503);
      expect(response.body.status).toBe('shutting_down');
    } finally {
      deps.lifecycle.shuttingDown = false;
    }
  });

  it('serves a valid OpenAPI 3.1 document', async () => {
    const response = await http.get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(response.body));
    expect(result).toMatchObject({ valid: true });
    expect(response.body.components.schemas.Problem).toBeDefined();
    expect(response.body.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('serves the interactive reference and its assets from the app itself', async () => {
    const page = await http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/docs/swagger-ui-bundle.js');
    const bundle = await http.get('/docs/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    const init = await http.get('/docs/init.js');
    expect(init.text).toContain('/openapi.json');
  });

  it('GET /metrics exposes Prometheus text with HTTP latency by route, event-loop lag and pool usage', async () => {
    await http.get('/health');
    const response = await http.get('/metrics');
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/health"/);
    expect(response.text).toContain('nodejs_eventloop_lag_seconds');
    expect(response.text).toContain('db_pool_connections_total');
  });
});

describe('operations with Redis unreachable', () => {
  const { http } = createTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });

  it('still serves, and /ready names redis as down', async () => {
    const health = await http.get('/health');
    expect(health.status).toBe(200);
    const ready = await http.get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({
      status: 'not_ready',
      checks: { database: 'ok', migrations: 'ok', redis: 'down' },
    });
  });

  it('rate limits in memory meanwhile instead of failing requests', async () => {
    const response = await http.get('/nowhere');
    expect(response.status).toBe(404);
    expect(response.headers['x-ratelimit-limit']).toBeDefined();
  });
});

describe('metrics token', () => {
  const { http } = createTestApp({ env: { METRICS_TOKEN: 'scrape-secret-123' } });

  it('refuses a scrape without the token and serves one with it', async () => {
    expect((await http.get('/metrics')).status).toBe(401);
    expect((await http.get('/metrics').set('Authorization', 'Bearer wrong')).status).toBe(401);
    expect(
      (await http.get('/metrics').set('Authorization', 'Bearer scrape-secret-123')).status,
    ).toBe(200);
  });
});

describe('rate limit', () => {
  // Its own key namespace: other apps in this run count requests from the same address.
  const { http } = createTestApp({
    env: { RATE_LIMIT_MAX: '3', REDIS_PREFIX: `${inject('redisPrefix')}_rl` },
  });

  it('answers 429 RATE_LIMITED with Retry-After past the limit, never on /health', async () => {
    const responses = [];
    for (let i = 0; i < 4; i++) responses.push(await http.get('/openapi.json'));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 429]);
    const limited = responses[3]!;
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await http.get('/health')).status).toBe(200);
  });
});
