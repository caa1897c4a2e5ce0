import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type supertest from 'supertest';
import { startDarajaSimulator } from '../../src/mpesa/simulator/simulator.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { businessSnapshot, expectProblem, PROBLEM_FIELDS } from '../helpers/security.js';

/*
 * OWASP API8 (security misconfiguration) and API7 (SSRF at save), table-driven: security
 * headers on a 2xx, 4xx and 5xx answer; CORS for allowed and hostile origins, preflight
 * included; unsupported verbs; a real database error answered without internals; proxy
 * headers ignored unless proxies are trusted (rate-limit key and M-Pesa allowlist).
 */

const ALLOWED_ORIGIN = 'https://pos.example.co.ke';
const simulator = await startDarajaSimulator({ callbackDelayMs: 30 });
afterAll(() => simulator.close());
const mpesa = { MPESA_ENV: 'simulator', MPESA_BASE_URL: simulator.url };
const { http, deps } = createTestApp({ env: { CORS_ORIGINS: ALLOWED_ORIGIN, ...mpesa } });
const shop = await createBusiness(deps);

// A real database error on a real route: a trigger raising for one category name (any
// other name, from any test running meanwhile, is untouched).
const FAILING_NAME = `force-db-error-${randomUUID()}`;
await deps.pool.query(`
  create or replace function security_matrix_fail() returns trigger language plpgsql as $$
  begin
    if new.name like 'force-db-error-%' then
      raise exception 'secret internals in table categories: password=hunter2';
    end if;
    return new;
  end $$;
  drop trigger if exists security_matrix_fail on categories;
  create trigger security_matrix_fail before insert on categories
    for each row execute function security_matrix_fail();
`);
afterAll(async () => {
  await deps.pool.query(`
    drop trigger if exists security_matrix_fail on categories;
    drop function if exists security_matrix_fail();
  `);
});

const ANSWERS: {
  name: string;
  status: number;
  send: () => supertest.Test;
  /** Default no-store; an ETag'd read revalidates instead (src/http/etag.ts). */
  cache?: string;
}[] = [
  { name: '2xx GET /health', status: 200, send: () => http.get('/health') },
  {
    name: '2xx GET /business (authenticated JSON)',
    status: 200,
    send: () => http.get('/business').set('Authorization', shop.owner.auth),
  },
  {
    name: '2xx GET /products (authenticated JSON with an ETag)',
    status: 200,
    cache: 'private, no-cache',
    send: () => http.get('/products').set('Authorization', shop.owner.auth),
  },
  { name: '4xx unknown route', status: 404, send: () => http.get('/no/such/route') },
  { name: '4xx no token', status: 401, send: () => http.get('/me') },
  {
    name: '5xx database error',
    status: 500,
    send: () =>
      http.post('/categories').set('Authorization', shop.owner.auth).send({ name: FAILING_NAME }),
  },
];

describe('security headers on every kind of answer', () => {
  for (const answer of ANSWERS) {
    it(`${answer.name}: nosniff, frame protection, HSTS, no X-Powered-By, ${answer.cache ?? 'no-store'}`, async () => {
      const response = await answer.send();
      expect(response.status, response.text.slice(0, 200)).toBe(answer.status);
      const headers = response.headers;
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
      expect(headers['x-powered-by']).toBeUndefined();
      expect(headers['cache-control']).toBe(answer.cache ?? 'no-store');
    });
  }

  it('files keep their own caching: public images immutable, signed files private', async () => {
    // Not API answers: /files sets Cache-Control itself and the default does not override it.
    await deps.storage.put('images/security-matrix.png', Buffer.from('x'), {
      contentType: 'image/png',
    });
    const image = await http.get('/files/images/security-matrix.png');
    expect(image.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });
});

describe('errors leak nothing', () => {
  it('a database error on a real route → 500 with the problem fields only, nothing stored', async () => {
    const before = await businessSnapshot(deps.pool, shop.id);
    const response = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .set('X-Request-Id', 'leak-check-1')
      .send({ name: FAILING_NAME });
    expectProblem(response, 500, 'INTERNAL', 'db error');
    expect(Object.keys(response.body).every((key) => PROBLEM_FIELDS.includes(key))).toBe(true);
    expect(response.body.requestId).toBe('leak-check-1');
    expect(response.text).not.toMatch(
      /hunter2|categories|raise|exception|P0001|plpgsql|at \S+\.ts/i,
    );
    expect(await businessSnapshot(deps.pool, shop.id)).toEqual(before);
  });
});

describe('CORS', () => {
  const CASES: { name: string; origin: string; preflight: boolean; allowed: boolean }[] = [
    { name: 'allowed origin', origin: ALLOWED_ORIGIN, preflight: false, allowed: true },
    { name: 'allowed origin, preflight', origin: ALLOWED_ORIGIN, preflight: true, allowed: true },
    { name: 'evil origin', origin: 'https://evil.example', preflight: false, allowed: false },
    {
      name: 'evil origin, preflight',
      origin: 'https://evil.example',
      preflight: true,
      allowed: false,
    },
    {
      name: 'suffix trick',
      origin: `${ALLOWED_ORIGIN}.evil.example`,
      preflight: true,
      allowed: false,
    },
    { name: 'null origin', origin: 'null', preflight: true, allowed: false },
    {
      name: 'http downgrade',
      origin: 'http://pos.example.co.ke',
      preflight: false,
      allowed: false,
    },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name} → ${testCase.allowed ? 'ACAO echoes it' : 'no ACAO'}`, async () => {
      const response = testCase.preflight
        ? await http
            .options('/sales')
            .set('Origin', testCase.origin)
            .set('Access-Control-Request-Method', 'POST')
            .set('Access-Control-Request-Headers', 'authorization,content-type')
        : await http
            .get('/products')
            .set('Origin', testCase.origin)
            .set('Authorization', shop.owner.auth);
      if (testCase.allowed) {
        expect(response.headers['access-control-allow-origin']).toBe(testCase.origin);
      } else {
        expect(response.headers['access-control-allow-origin']).toBeUndefined();
        expect(response.headers['access-control-allow-methods']).toBeUndefined();
      }
      // Bearer tokens, not cookies: credentials are never allowed cross-origin.
      expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    });
  }
});

describe('unsupported verbs', () => {
  const CASES: { method: string; path: string; status: number; code: string }[] = [
    { method: 'TRACE', path: '/health', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { method: 'TRACE', path: '/products', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { method: 'TRACE', path: '/', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { method: 'PUT', path: '/products', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { method: 'DELETE', path: '/health', status: 405, code: 'METHOD_NOT_ALLOWED' },
  ];
  for (const testCase of CASES) {
    it(`${testCase.method} ${testCase.path} → ${testCase.status}, never echoed`, async () => {
      const response = await http[testCase.method.toLowerCase() as 'get'](testCase.path)
        .set('X-Secret-Header', 'echo-me')
        .set('Authorization', shop.owner.auth);
      expectProblem(
        response,
        testCase.status,
        testCase.code,
        `${testCase.method} ${testCase.path}`,
      );
      expect(response.text).not.toContain('echo-me');
    });
  }
});

describe('proxy headers are ignored unless proxies are trusted', () => {
  // A private Redis key space, so other files' requests do not count against this limit.
  const limited = (trustProxy: boolean) =>
    createTestApp({
      env: {
        RATE_LIMIT_MAX: '3',
        TRUST_PROXY: String(trustProxy),
        REDIS_PREFIX: `xff_${randomUUID().slice(0, 8)}`,
      },
    });
  const untrusted = limited(false);
  const trusted = limited(true);

  it('a spoofed X-Forwarded-For does not change the rate-limit key', async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 5; index++) {
      const response = await untrusted.http
        .get('/openapi.json')
        .set('X-Forwarded-For', `203.0.113.${index}`)
        .set('X-Real-IP', `198.51.100.${index}`);
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('(control) behind a trusted proxy each forwarded address has its own limit', async () => {
    const statuses: number[] = [];
    for (let index = 0; index < 5; index++) {
      const response = await trusted.http
        .get('/openapi.json')
        .set('X-Forwarded-For', `203.0.113.${index}`);
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('a spoofed X-Forwarded-For does not pass the M-Pesa callback allowlist', async () => {
    const allowlisted = (trustProxy: boolean) =>
      createTestApp({
        env: {
          ...mpesa,
          MPESA_CALLBACK_ALLOWLIST: '196.201.214.0/24',
          TRUST_PROXY: String(trustProxy),
        },
      });
    const apps = { untrusted: allowlisted(false), trusted: allowlisted(true) };
    const statuses: Record<string, number> = {};
    for (const [name, app] of Object.entries(apps)) {
      const owner = (await createBusiness(app.deps)).owner;
      // The sale push needs the business's own M-Pesa app (the simulator's default one).
      const till = await app.http.put('/business/mpesa').set('Authorization', owner.auth).send({
        environment: 'sandbox',
        type: 'paybill',
        shortcode: simulator.options.shortcode,
        consumerKey: simulator.options.consumerKey,
        consumerSecret: simulator.options.consumerSecret,
        passkey: simulator.options.passkey,
      });
      expect(till.status, till.text).toBe(200);
      const created = await app.http
        .post('/bv-payments/sale-stk-push')
        .set('Authorization', owner.auth)
        .set('Idempotency-Key', randomUUID())
        .send({ amount: 10_000, phoneNumber: '254700000005', reference: 'xff' });
      expect(created.status, created.text).toBe(202);
      const push = simulator.requests.filter((r) => r.path.includes('stkpush')).at(-1)!;
      const callbackUrl = new URL((push.body as { CallBackURL: string }).CallBackURL);
      const response = await app.http
        .post(callbackUrl.pathname)
        .set('X-Forwarded-For', '196.201.214.10')
        .send({ Body: { stkCallback: { CheckoutRequestID: 'x', ResultCode: 1032 } } });
      statuses[name] = response.status;
    }
    expect(statuses).toEqual({ untrusted: 403, trusted: 200 });
  });
});

describe('SSRF at webhook save: URL forms of OWASP API7 not already in test/webhooks', () => {
  const strict = createTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
  const URLS = [
    'http://user@127.0.0.1/hook',
    'https://127.0.0.1:443/hook',
    'http://0/hook',
    'http://017700000001/hook',
    'http://[0:0:0:0:0:ffff:127.0.0.1]/hook',
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'http://169.254.169.254.nip.io/',
    'ftp://example.com/hook',
    'javascript:alert(1)',
    'data:text/plain,hello',
  ];
  for (const url of URLS) {
    it(`${url} → refused, nothing stored`, async () => {
      const business = await createBusiness(strict.deps);
      const response = await strict.http
        .post('/webhooks')
        .set('Authorization', business.owner.auth)
        .send({ url, events: ['*'] });
      // 422 for an address rule; 400 when the schema already refuses the URL's shape.
      expect([400, 422], response.text).toContain(response.status);
      expect(response.body.errors).toContainEqual(expect.objectContaining({ path: 'url' }));
      const rows = await strict.deps.pool.query(
        'select 1 from webhook_endpoints where business_id = $1',
        [business.id],
      );
      expect(rows.rowCount).toBe(0);
    });
  }
});
