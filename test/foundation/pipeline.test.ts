import { describe, expect, it } from 'vitest';
import { PROBLEM_LIMITS } from '../../src/http/problem.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { testRoutes } from '../helpers/test-routes.js';

const { http } = createTestApp({ routes: [...allRoutes, ...testRoutes] });

function expectProblemShape(body: Record<string, unknown>, status: number, code: string) {
  expect(body).toMatchObject({
    status,
    code,
    type: `/errors/${code.toLowerCase().replace(/_/g, '-')}`,
  });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(typeof body.retryable).toBe('boolean');
  expect(typeof body.requestId).toBe('string');
}

describe('request ids', () => {
  it('keeps a well-formed X-Request-Id and echoes it in the header and error body', async () => {
    const response = await http.get('/nowhere').set('X-Request-Id', 'till-7.req-42');
    expect(response.headers['x-request-id']).toBe('till-7.req-42');
    expect(response.body.requestId).toBe('till-7.req-42');
  });

  it('replaces an unsafe or oversized X-Request-Id with a fresh one', async () => {
    for (const bad of ['<script>', 'x'.repeat(129), 'a b']) {
      const response = await http.get('/health').set('X-Request-Id', bad);
      expect(response.headers['x-request-id']).not.toBe(bad);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('errors as problem documents', () => {
  it('answers an unknown route with a 404 problem', async () => {
    const response = await http.get('/no/such/route');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectProblemShape(response.body, 404, 'NOT_FOUND');
    expect(response.body.retryable).toBe(false);
  });

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const response = await http.delete('/health');
    expect(response.status).toBe(405);
    expectProblemShape(response.body, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toContain('GET');
  });

  it('bounds a problem document as the OpenAPI Problem schema says', async () => {
    // 150 unknown keys, each longer than an error path may be: one error per key, normally.
    const unknown = Object.fromEntries(
      Array.from({ length: 150 }, (_, index) => [`${'k'.repeat(400)}${index}`, 1]),
    );
    const response = await http.post('/__test/echo').send({ name: 'x', quantity: 1, ...unknown });
    expect(response.status).toBe(400);
    const errors = response.body.errors as { path: string }[];
    expect(errors).toHaveLength(PROBLEM_LIMITS.errors);
    expect(errors[0]!.path).toBe('k'.repeat(PROBLEM_LIMITS.errorPath));

    const longPath = await http.get(`/${'p'.repeat(3000)}`);
    expect(longPath.status).toBe(404);
    expect(longPath.body.detail).toHaveLength(PROBLEM_LIMITS.detail);
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const response = await http
      .post('/__test/echo')
      .set('Content-Type', 'application/json')
      .send('{"name": "x",');
    expect(response.status).toBe(400);
    expectProblemShape(response.body, 400, 'MALFORMED_JSON');
  });

  it('answers a body over 1 MB with 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), quantity: 1 });
    const response = await http
      .post('/__test/echo')
      .set('Content-Type', 'application/json')
      .send(big);
    expect(response.status).toBe(413);
    expectProblemShape(response.body, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a non-JSON content type with 415', async () => {
    const response = await http
      .post('/__test/echo')
      .set('Content-Type', 'text/plain')
      .send('name=x');
    expect(response.status).toBe(415);
    expectProblemShape(response.body, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('lists every schema violation, unknown fields included, as 400 VALIDATION_FAILED', async () => {
    const response = await http
      .post('/__test/echo?flag=zzz')
      .send({ name: '', quantity: '3', businessId: 'b-1' });
    expect(response.status).toBe(400);
    expectProblemShape(response.body, 400, 'VALIDATION_FAILED');
    const paths = (response.body.errors as { path: string }[]).map((error) => error.path).sort();
    expect(paths).toEqual(['businessId', 'name', 'quantity', 'query.flag']);
    const unknown = (response.body.errors as { path: string; code: string }[]).find(
      (error) => error.path === 'businessId',
    );
    expect(unknown?.code).toBe('unrecognized_keys');
  });

  it('never coerces numbers from strings in a body', async () => {
    const response = await http.post('/__test/echo').send({ name: 'a', quantity: '1' });
    expect(response.status).toBe(400);
    expect(response.body.errors[0]).toMatchObject({ path: 'quantity', code: 'invalid_type' });
  });

  it('accepts a valid body', async () => {
    const response = await http.post('/__test/echo?flag=a').send({ name: 'Soda', quantity: 2 });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ name: 'Soda', quantity: 2, flag: 'a' });
  });

  it('turns an unexpected throw into a generic 500 with no internals', async () => {
    const response = await http.get('/__test/boom').set('X-Request-Id', 'boom-1');
    expect(response.status).toBe(500);
    expectProblemShape(response.body, 500, 'INTERNAL');
    expect(response.body.retryable).toBe(true);
    expect(response.body.requestId).toBe('boom-1');
    const text = JSON.stringify(response.body);
    expect(text).not.toMatch(/hunter2|select|db\.query|at .*\.ts/);
  });
});

describe('security headers and CORS', () => {
  it('sets nosniff and frame protection, and no X-Powered-By', async () => {
    const response = await http.get('/health');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('does not allow origins outside the allowlist', async () => {
    const response = await http.get('/health').set('Origin', 'https://evil.example');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('compression', () => {
  it('compresses large JSON for clients that accept gzip', async () => {
    const response = await http.get('/openapi.json').set('Accept-Encoding', 'gzip');
    expect(response.headers['content-encoding']).toBe('gzip');
  });
});

describe('per-route concurrency limit', () => {
  it('handles one at a time, queues one more and refuses the rest with 503 + Retry-After', async () => {
    const send = (ms: number) => http.post('/__test/one-at-a-time').send({ ms });
    // Three at once on a route that runs one and lets one wait: whatever order they
    // arrive in, one is refused (each holds its turn for 2 s, far longer than arriving takes).
    const answers = await Promise.all([send(2_000), send(2_000), send(2_000)]);
    const refused = answers.filter((answer) => answer.status === 503);
    expect(refused).toHaveLength(1);
    expectProblemShape(refused[0]!.body, 503, 'SERVICE_UNAVAILABLE');
    expect(refused[0]!.body.retryable).toBe(true);
    expect(refused[0]!.headers['retry-after']).toBe('1');
    const served = answers.filter((answer) => answer.status === 200);
    expect(served).toHaveLength(2);
    // The queued one ran only after the first finished: never two in the handler at once.
    for (const answer of served) expect(answer.body.peakInFlight).toBe(1);
    // Once the queue drains, the route answers again.
    expect((await send(0)).status).toBe(200);
  });

  it('answers 503 to a request that waited longer than the route allows, and serves the next', async () => {
    const send = (ms: number) => http.post('/__test/short-wait').send({ ms });
    // supertest sends on then(): start the holder now.
    const holder = send(3_000).then((response) => response);
    // A probe that arrives before the holder is served first; one behind it waits, is refused.
    let waited = await send(0);
    for (let tries = 0; waited.status === 200 && tries < 20; tries++) waited = await send(0);
    expect(waited.status).toBe(503);
    expect(waited.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(waited.headers['retry-after']).toBe('1');
    expect((await holder).status).toBe(200);
    expect((await send(0)).status).toBe(200);
  });
});
