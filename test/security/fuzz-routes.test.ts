import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZodArray, ZodObject, type ZodType } from 'zod';
import type { RouteSpec } from '../../src/http/route.js';
import { PROBLEM_CODES, type ProblemCode } from '../../src/lib/errors.js';
import { startDarajaSimulator } from '../../src/mpesa/simulator/simulator.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { afterAll } from 'vitest';

/*
 * Fuzzing every route of the registry (generated from `allRoutes`, so a new route cannot
 * skip it) with deliberately wrong shapes. For each request: never a 5xx; every 4xx is a
 * valid problem document; nothing of the business was written when the answer was a 4xx.
 * Non-public routes are called by the owner of a fresh business, public ones anonymously.
 *
 * Only the multipart image upload is not fuzzed by the generic loop (its body is a raw
 * stream, not JSON): it gets its own malformed-multipart cases below. The M-Pesa callback
 * route is fuzzed like any other (random tokens are unknown) and also gets a dedicated
 * "garbage to an unknown token → 404, nothing stored" case.
 */

// The STK push routes would call Daraja for valid-looking input: point them at a local
// simulator so even an accidental valid request never leaves the machine.
const simulator = await startDarajaSimulator({ callbackDelayMs: 30 });
afterAll(async () => {
  await simulator.close();
});
const { deps, http } = createTestApp({
  env: { MPESA_ENV: 'simulator', MPESA_BASE_URL: simulator.url },
});

// Raise FUZZ_RUNS locally for a deeper search; CI keeps the suite fast.
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 20);
const MULTIPART_ROUTE = (route: RouteSpec) => route.bodyType === 'multipart';

// ---------- hostile values ----------

const nest = (depth: number, leaf: unknown, asArray: boolean): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
};

/** An object with an own, enumerable `__proto__` key (JSON.stringify then sends it). */
const withProtoKey = (base: Record<string, unknown>, value: unknown) => {
  const copy = { ...base };
  Object.defineProperty(copy, '__proto__', {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
};

const hostileStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202eevil\u202c',
  '\u0645\u0631\u062d\u0628\u0627',
  '😀'.repeat(40),
  '\ud800',
  'x\udfffy',
  'x'.repeat(10_001),
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '-1',
  '9007199254740993',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  "'; drop table sales; --",
  '2026-13-45T99:99:99Z',
  '254712345678',
  'null',
  'true',
  '%00',
];

const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    1e308,
    -1e308,
    -1,
    0,
    2 ** 53 + 1,
    -(2 ** 53 + 1),
    0.1,
    1.5,
    Number.MIN_VALUE,
    true,
    false,
    null,
    ...hostileStrings,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.string({ maxLength: 40, unit: 'binary' }),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileScalar },
  { weight: 1, arbitrary: fc.constant(nest(200, 1, false)) },
  { weight: 1, arbitrary: fc.constant(nest(200, 'x', true)) },
  { weight: 1, arbitrary: fc.array(hostileScalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.constant(withProtoKey({}, { isAdmin: true })) },
  { weight: 1, arbitrary: fc.constant({ constructor: { prototype: { isAdmin: true } } }) },
);

// ---------- shapes derived from the route's own schemas ----------

/** Looks through optional/nullable/default/pipe wrappers to the schema underneath. */
function unwrap(schema: ZodType | undefined): ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 10 && current; i++) {
    const def = (current as unknown as { def: { innerType?: ZodType; in?: ZodType } }).def;
    const next = def.innerType ?? def.in;
    if (!next) break;
    current = next;
  }
  return current;
}

function objectKeys(schema: ZodType | undefined): string[] {
  const inner = unwrap(schema);
  return inner instanceof ZodObject ? Object.keys(inner.shape) : [];
}

/** An object with the schema's own keys (some missing) holding hostile values, one level deep into arrays of objects. */
function shapedObject(schema: ZodType | undefined, depth = 0): fc.Arbitrary<unknown> {
  const inner = unwrap(schema);
  if (!(inner instanceof ZodObject)) return hostileValue;
  const entries = Object.entries(inner.shape as Record<string, ZodType>).map(([key, field]) => {
    const unwrapped = unwrap(field);
    const element =
      unwrapped instanceof ZodArray ? unwrap(unwrapped.element as ZodType) : undefined;
    const value =
      depth < 1 && element instanceof ZodObject
        ? fc.oneof(hostileValue, fc.array(shapedObject(element, depth + 1), { maxLength: 3 }))
        : hostileValue;
    return [key, fc.option(value, { nil: undefined })] as const;
  });
  return fc
    .tuple(
      fc.record(Object.fromEntries(entries)),
      fc.constantFrom('none', 'unknown', 'proto', 'constructor'),
      hostileValue,
    )
    .map(([record, extra, value]) => {
      const clean = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
      if (extra === 'unknown') return { ...clean, role: 'owner', businessId: value, isAdmin: true };
      if (extra === 'proto') return withProtoKey(clean, { businessId: value, role: 'owner' });
      if (extra === 'constructor') return { ...clean, constructor: { prototype: value } };
      return clean;
    });
}

interface FuzzBody {
  text: string;
  contentType: string;
}

function bodyArbitrary(route: RouteSpec): fc.Arbitrary<FuzzBody | undefined> {
  if (!route.request?.body) return fc.constant(undefined);
  const json = fc
    .oneof(
      { weight: 3, arbitrary: shapedObject(route.request.body) },
      { weight: 2, arbitrary: hostileValue },
      // An array where an object is expected.
      { weight: 1, arbitrary: fc.array(shapedObject(route.request.body), { maxLength: 2 }) },
    )
    .map((value) => ({ text: JSON.stringify(value), contentType: 'application/json' }));
  const raw = fc.record({
    text: fc.constantFrom('{', '{"a":1,}', '\u0000', 'NaN', '{"a":1e999999}', '', '['.repeat(5000)),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
    ),
  });
  return fc.oneof({ weight: 6, arbitrary: json }, { weight: 1, arbitrary: raw });
}

/** encodeURIComponent that turns lone surrogates into raw invalid UTF-8 instead of throwing. */
const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
};

const pathSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.uuid().map(encode) },
  { weight: 1, arbitrary: fc.uuid({ version: 7 }).map(encode) },
  { weight: 2, arbitrary: fc.constantFrom(...hostileStrings.filter(Boolean)).map(encode) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%E0%A4%A',
      '%',
      '%zz',
      '..%2F..%2Fetc',
      '00000000-0000-0000-0000-00000000000g',
    ),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 60 }).map(encode) },
);

function queryArbitrary(route: RouteSpec): fc.Arbitrary<string> {
  const keys = [...objectKeys(route.request?.query), 'unknown', '__proto__', 'constructor'];
  const value = fc.oneof(
    fc.constantFrom(...hostileStrings).map(encode),
    fc.constantFrom('%E0%A4%A', '%', '1e308', '-1', '200000', '0x10'),
    fc.string({ maxLength: 30 }).map(encode),
  );
  return fc
    .array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 5 })
    .map((pairs) => pairs.map(([key, v]) => `${encode(key)}=${v}`).join('&'));
}

const asciiGarbage = fc.oneof(
  fc.constantFrom('', '*', 'W/"x"', '"', 'x'.repeat(300), 'null', '-1'),
  fc.string({
    maxLength: 40,
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  }),
);

interface FuzzRequest {
  path: string;
  query: string;
  body: FuzzBody | undefined;
  headers: Record<string, string>;
}

function requestArbitrary(route: RouteSpec): fc.Arbitrary<FuzzRequest> {
  const params = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
  const headerKeys = objectKeys(route.request?.headers);
  const headerArb = fc.record(
    Object.fromEntries([
      ...headerKeys.map((key) => [key, fc.option(asciiGarbage, { nil: undefined })] as const),
      ...(route.idempotency
        ? [
            [
              'idempotency-key',
              fc.option(fc.oneof(fc.uuid(), asciiGarbage), { nil: undefined }),
            ] as const,
          ]
        : []),
    ]),
  );
  return fc
    .record({
      segments: fc.tuple(...params.map(() => pathSegment)),
      query: queryArbitrary(route),
      body: bodyArbitrary(route),
      headers: headerArb,
    })
    .map(({ segments, query, body, headers }) => {
      let path = route.path;
      params.forEach((name, index) => {
        path = path.replace(`{${name}}`, segments[index]!);
      });
      const cleanHeaders = Object.fromEntries(
        Object.entries(headers).filter(([, v]) => v !== undefined && v !== ''),
      ) as Record<string, string>;
      return { path, query, body, headers: cleanHeaders };
    });
}

// ---------- assertions ----------

/** Rows the business owns, by table: a rejected request must change none of them. */
async function businessRowCounts(businessId: string): Promise<Record<string, number>> {
  const tables = [
    'sales',
    'sale_lines',
    'products',
    'categories',
    'stock_movements',
    'payments',
    'webhook_endpoints',
    'webhook_deliveries',
    'invites',
    'report_exports',
    'outbox',
    'users',
    'shifts',
    'shift_cash_movements',
  ];
  const select = tables
    .map((table) => `(select count(*)::int from ${table} where business_id = $1) as ${table}`)
    .join(', ');
  const result = await deps.pool.query<Record<string, number>>(`select ${select}`, [businessId]);
  return result.rows[0]!;
}

interface ResponseLike {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

export function expectProblemDocument(response: ResponseLike, context: string): void {
  const where = `${context} → ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.headers['content-type'], where).toMatch(/^application\/problem\+json/);
  const body = response.body as Record<string, unknown>;
  expect(typeof body.type, where).toBe('string');
  expect(typeof body.title, where).toBe('string');
  expect(body.status, where).toBe(response.status);
  expect(Object.keys(PROBLEM_CODES), where).toContain(body.code);
  expect(PROBLEM_CODES[body.code as ProblemCode].status, where).toBe(response.status);
  expect(typeof body.detail, where).toBe('string');
  expect(typeof body.retryable, where).toBe('boolean');
  expect(typeof body.requestId, where).toBe('string');
  expect((body.requestId as string).length, where).toBeGreaterThan(0);
}

async function send(route: RouteSpec, request: FuzzRequest, auth: string | undefined) {
  const url = request.query ? `${request.path}?${request.query}` : request.path;
  let call = http[route.method](url);
  if (auth) call = call.set('Authorization', auth);
  for (const [name, value] of Object.entries(request.headers)) call = call.set(name, value);
  if (request.body)
    call = call.set('Content-Type', request.body.contentType).send(request.body.text);
  return call;
}

// ---------- the generated suite ----------

const business: TestBusiness = await createBusiness(deps);

describe('fuzzing every route with hostile input', () => {
  for (const route of allRoutes.filter((candidate) => !MULTIPART_ROUTE(candidate))) {
    const anonymous = route.access === 'public';
    it(`${route.method.toUpperCase()} ${route.path} (${anonymous ? 'anonymous' : 'owner'})`, async () => {
      await fc.assert(
        fc.asyncProperty(requestArbitrary(route), async (request) => {
          const before = await businessRowCounts(business.id);
          const response = await send(route, request, anonymous ? undefined : business.owner.auth);
          const context = `${route.method.toUpperCase()} ${request.path}?${request.query} body=${request.body?.text.slice(0, 200)}`;
          expect(response.status, `${context} → ${response.text.slice(0, 300)}`).toBeLessThan(500);
          if (response.status >= 400) {
            // 431: Node's HTTP parser refuses > 16 KB of request head (long paths and
            // queries) before the app sees the request; there is no app answer to check.
            if (response.status !== 431) expectProblemDocument(response, context);
            expect(await businessRowCounts(business.id), context).toEqual(before);
          }
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

describe('malformed multipart to the image upload', () => {
  const route = allRoutes.find(MULTIPART_ROUTE)!;

  it('answers 4xx problem documents and stores nothing', async () => {
    const created = await http
      .post('/products')
      .set('Authorization', business.owner.auth)
      .send({ name: 'Fuzz target', sku: 'FUZZ-IMG-1', price: 100 });
    expect(created.status, created.text).toBe(201);
    const productId = created.body.id as string;
    const path = route.path.replace('{id}', productId);
    const boundary = '----fuzzboundary';
    const cases: { name: string; path?: string; contentType?: string; body: string | Buffer }[] = [
      { name: 'no content type', body: 'just bytes' },
      { name: 'json instead of multipart', contentType: 'application/json', body: '{"image":"x"}' },
      { name: 'multipart without boundary', contentType: 'multipart/form-data', body: 'x' },
      {
        name: 'truncated part',
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG`,
      },
      {
        name: 'truncated part of another field',
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG`,
      },
      {
        name: 'wrong boundary',
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: `--other\r\nContent-Disposition: form-data; name="image"\r\n\r\nxx\r\n--other--\r\n`,
      },
      {
        name: 'no file field',
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${boundary}--\r\n`,
      },
      {
        name: 'not an image',
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n<?php echo 1; ?>\r\n--${boundary}--\r\n`,
      },
      {
        name: 'header-only garbage with NUL and unicode filename',
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="\u0000\u202e.png"\r\n\r\n\u0000\r\n--${boundary}--\r\n`,
      },
      {
        name: 'random product id',
        path: route.path.replace('{id}', '01900000-0000-7000-8000-000000000000'),
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nxx\r\n--${boundary}--\r\n`,
      },
      {
        name: 'non-uuid product id',
        path: route.path.replace('{id}', '%E0%A4%A'),
        contentType: `multipart/form-data; boundary=${boundary}`,
        body: 'x',
      },
    ];
    for (const testCase of cases) {
      const before = await businessRowCounts(business.id);
      let call = http.post(testCase.path ?? path).set('Authorization', business.owner.auth);
      if (testCase.contentType) call = call.set('Content-Type', testCase.contentType);
      const response = await call.send(testCase.body);
      expect(response.status, `${testCase.name}: ${response.text}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${testCase.name}: ${response.text}`).toBeLessThan(500);
      expectProblemDocument(response, testCase.name);
      expect(await businessRowCounts(business.id)).toEqual(before);
    }
    const product = await http
      .get(`/products/${productId}`)
      .set('Authorization', business.owner.auth);
    expect(product.body.imageUrl ?? null).toBeNull();
  });
});

describe('M-Pesa callback with an unknown token', () => {
  it('answers 404 to a well-formed callback and stores nothing', async () => {
    const marker = `fuzz-${crypto.randomUUID()}`;
    const response = await http.post(`/bv-payments/mpesa/callback/${crypto.randomUUID()}`).send({
      Body: {
        stkCallback: {
          MerchantRequestID: marker,
          CheckoutRequestID: marker,
          ResultCode: 0,
          ResultDesc: 'ok',
        },
      },
    });
    expect(response.status, response.text).toBe(404);
    expectProblemDocument(response, 'callback');
    const stored = await deps.pool.query<{ count: number }>(
      `select count(*)::int as count from mpesa_callback_inbox where raw_payload::text like $1`,
      [`%${marker}%`],
    );
    expect(stored.rows[0]!.count).toBe(0);
  });
});

// Found by the fuzzer: a NUL character in an otherwise valid string field reached
// PostgreSQL (which cannot store U+0000) and answered 500. Kept as fixed cases because
// random shapes rarely make every other field valid at once.
describe('NUL characters in otherwise valid bodies and queries', () => {
  const cases: {
    method: 'post' | 'patch' | 'get';
    path: string;
    body?: Record<string, unknown>;
    field: string;
  }[] = [
    { method: 'post', path: '/categories', body: { name: 'a\u0000b' }, field: 'name' },
    {
      method: 'post',
      path: '/products',
      body: { name: 'Soap\u0000', sku: 'NUL-1', price: 100 },
      field: 'name',
    },
    {
      method: 'post',
      path: '/products',
      body: { name: 'Soap', sku: 'NUL\u00002', price: 100 },
      field: 'sku',
    },
    {
      method: 'post',
      path: '/webhooks',
      body: { url: 'https://example.com/\u0000', events: ['sale.created'] },
      field: 'url',
    },
    { method: 'patch', path: '/me', body: { name: 'x\u0000' }, field: 'name' },
    { method: 'patch', path: '/business', body: { name: 'x\u0000' }, field: 'name' },
    { method: 'get', path: '/products?search=a%00b', field: 'query.search' },
  ];
  for (const testCase of cases) {
    it(`${testCase.method.toUpperCase()} ${testCase.path} with NUL in ${testCase.field} → 400`, async () => {
      const before = await businessRowCounts(business.id);
      let call = http[testCase.method](testCase.path).set('Authorization', business.owner.auth);
      if (testCase.body) call = call.send(testCase.body);
      const response = await call;
      expect(response.status, response.text).toBe(400);
      expectProblemDocument(response, testCase.path);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.errors).toContainEqual(
        expect.objectContaining({ path: testCase.field }),
      );
      expect(await businessRowCounts(business.id)).toEqual(before);
    });
  }
});
