import type { Response } from 'supertest';
import { describe, expect, inject, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/openapi.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';

// The document promises response headers (rate limit, CORS, request id, Retry-After) that the
// OWASP lint asks for; these answers of the real pipeline prove each promise is kept, value
// and bounds included, and that exempt routes promise nothing they do not send.

const ORIGIN = 'https://pos.example.co.ke';
const { http, deps } = createTestApp({
  env: {
    CORS_ORIGINS: ORIGIN,
    RATE_LIMIT_MAX: '3',
    // Its own rate-limit keys: other apps in this run count requests from the same address.
    REDIS_PREFIX: `${inject('redisPrefix')}_oas`,
  },
});

interface HeaderSchema {
  type: 'integer' | 'string';
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}
interface Operation {
  responses: Record<string, { headers?: Record<string, { schema: HeaderSchema }> }>;
}
const document = buildOpenApiDocument(allRoutes, {
  serverUrl: 'http://127.0.0.1:3999',
}) as unknown as { paths: Record<string, Record<string, Operation>> };

function declaredHeaders(path: string, method: string, status: number) {
  const response = document.paths[path]?.[method]?.responses[String(status)];
  if (!response) throw new Error(`${method} ${path} documents no ${status}`);
  return response.headers ?? {};
}

/** Every header the document declares for this answer is sent, within its schema. */
function expectDeclaredHeadersSent(response: Response, path: string, method: string) {
  const declared = declaredHeaders(path, method, response.status);
  expect(Object.keys(declared).length).toBeGreaterThan(0);
  for (const [name, { schema }] of Object.entries(declared)) {
    const value: string | undefined = response.headers[name.toLowerCase()];
    expect(value, `${name} on ${response.status} ${method} ${path}`).toBeDefined();
    if (schema.type === 'integer') {
      expect(value).toMatch(/^\d+$/);
      expect(Number(value)).toBeGreaterThanOrEqual(schema.minimum ?? -Infinity);
      expect(Number(value)).toBeLessThanOrEqual(schema.maximum ?? Infinity);
    } else {
      expect(value!.length).toBeLessThanOrEqual(schema.maxLength ?? Infinity);
    }
  }
  return declared;
}

describe('response headers in the OpenAPI document', () => {
  it('are sent on 200, 401 and 429 of a rate-limited route, with the values they describe', async () => {
    const { owner } = await createBusiness(deps);
    const me = () => http.get('/me').set('Origin', ORIGIN);

    const ok = await me().set('Authorization', owner.auth);
    expect(ok.status).toBe(200);
    const okHeaders = expectDeclaredHeadersSent(ok, '/me', 'get');
    expect(Object.keys(okHeaders)).toEqual(
      expect.arrayContaining(['X-RateLimit-Limit', 'Access-Control-Allow-Origin']),
    );
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(ok.headers['x-ratelimit-limit']).toBe('3');
    // Documented as Unix epoch seconds: the end of the current one-minute window.
    const now = Math.floor(Date.now() / 1000);
    const reset = Number(ok.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThanOrEqual(now - 1);
    expect(reset).toBeLessThanOrEqual(now + 61);

    const anonymous = await me();
    expect(anonymous.status).toBe(401);
    expectDeclaredHeadersSent(anonymous, '/me', 'get');

    await me().set('Authorization', owner.auth);
    const limited = await me().set('Authorization', owner.auth);
    expect(limited.status).toBe(429);
    const limitedHeaders = expectDeclaredHeadersSent(limited, '/me', 'get');
    expect(Object.keys(limitedHeaders)).toContain('Retry-After');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
  });

  it('declares no rate-limit headers or 429 on exempt probes, which send none', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await http.get('/health').set('Origin', ORIGIN);
      expect(response.status).toBe(200);
      expectDeclaredHeadersSent(response, '/health', 'get');
      expect(response.headers['x-ratelimit-limit']).toBeUndefined();
    }
    expect(Object.keys(declaredHeaders('/health', 'get', 200))).not.toContain('X-RateLimit-Limit');
    expect(document.paths['/health']?.get?.responses['429']).toBeUndefined();
  });

  it('leaves Access-Control-Allow-Origin out for origins not allowed, as documented', async () => {
    const response = await http.get('/health').set('Origin', `${ORIGIN}.evil.example`);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const tooLong = await http.get('/health').set('Origin', `https://${'a'.repeat(400)}.example`);
    expect(tooLong.headers['access-control-allow-origin']).toBeUndefined();
  });
});
