import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZodObject, type ZodType } from 'zod';
import type { RouteSpec } from '../../src/http/route.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { insertProduct, defaultLocationId, saleBody } from '../helpers/sales-factories.js';
import { businessSnapshot, expectProblem, routeKey } from '../helpers/security.js';

/*
 * OWASP API3 (BOPLA / mass assignment), generated from the route registry: every route
 * with a JSON body gets a valid body plus privileged or unknown keys — at the top level and
 * inside every nested object — and must answer 400 VALIDATION_FAILED listing exactly the
 * injected keys (so the rest of the body was valid and the keys are the only reason); the
 * same body with `__proto__` members is refused too; nothing is written and
 * Object.prototype is untouched. A route with a body but no base body below fails.
 */

const { http, deps } = createTestApp({
  env: { STORAGE_LOCAL_DIR: mkdtempSync(path.join(os.tmpdir(), 'bapi-mass-')) },
});
const shop = await createBusiness(deps);
const product = await insertProduct(deps, shop.id, shop.owner.id);
const PLACEHOLDER = '01900000-0000-7000-8000-000000000000';
/** A real 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Keys a client must never set; each route gets those its schema does not itself accept. */
const PRIVILEGED = [
  'businessId',
  'business_id',
  'role',
  'id',
  'createdAt',
  'updatedAt',
  'createdBy',
  'version',
  'stockQuantity',
  'costPrice',
  'passwordHash',
  'isAdmin',
  'status',
  'number',
  'cashierId',
  'constructor',
];

const validSale = () => saleBody([{ product }]);
const mainLocation = await defaultLocationId(deps, shop.id);
const branchLocation = (
  await http.post('/locations').set('Authorization', shop.owner.auth).send({ name: 'Branch' })
).body.id as string;

/** A body each route accepts (so the injected keys are the only fault). */
const BASE_BODIES: Record<string, () => Record<string, unknown>> = {
  'POST /auth/register': () => ({
    businessName: 'Mass Assign Ltd',
    name: 'Eve',
    email: `eve-${randomUUID()}@example.test`,
    password: 'correct-horse-battery',
  }),
  'POST /auth/login': () => ({ email: shop.owner.email, password: 'wrong-password-123' }),
  'POST /auth/refresh': () => ({ refreshToken: 'x'.repeat(43) }),
  'POST /auth/logout': () => ({ refreshToken: 'x'.repeat(43) }),
  'POST /auth/password/forgot': () => ({ email: shop.owner.email }),
  'POST /auth/password/reset': () => ({ token: 'x'.repeat(43), password: 'correct-horse-battery' }),
  'PATCH /me': () => ({ name: 'Renamed' }),
  'PATCH /users/{id}': () => ({ role: 'cashier' }),
  'POST /invites': () => ({ email: `i-${randomUUID()}@example.test`, role: 'cashier' }),
  'POST /invites/accept': () => ({
    token: 'x'.repeat(43),
    name: 'Mallory',
    password: 'correct-horse-battery',
  }),
  'PATCH /business': () => ({ name: 'Renamed shop' }),
  'POST /products': () => ({ name: 'Soap', price: 100, cost: 50 }),
  'PATCH /products/{id}': () => ({ name: 'Soap 2' }),
  'POST /categories': () => ({ name: `Cat ${randomUUID()}` }),
  'PATCH /categories/{id}': () => ({ name: `Cat ${randomUUID()}` }),
  'POST /inventory/adjustments': () => ({
    items: [{ productId: product.id, type: 'receive', quantity: 1 }],
  }),
  'POST /inventory/transfers': () => ({
    fromLocationId: mainLocation,
    toLocationId: branchLocation,
    items: [{ productId: product.id, quantity: 1 }],
  }),
  'POST /locations': () => ({ name: `Branch ${randomUUID()}` }),
  'PATCH /locations/{id}': () => ({ name: `Branch ${randomUUID()}` }),
  'POST /sales': validSale,
  'POST /sales/sync': () => ({ sales: [validSale()] }),
  'POST /sales/{id}/void': () => ({ reason: 'mistake' }),
  'POST /sales/{id}/receipt/email': () => ({ email: 'customer@example.test' }),
  'POST /shifts': () => ({
    id: randomUUID(),
    register: `Till ${randomUUID().slice(0, 8)}`,
    openedAt: new Date(Date.now() - 60_000).toISOString(),
    openingFloat: 10_000,
  }),
  'POST /shifts/{id}/cash-movements': () => ({
    clientRequestId: randomUUID(),
    type: 'pay_in',
    amount: 100,
    note: 'float top-up',
  }),
  'POST /shifts/{id}/close': () => ({ closedAt: new Date().toISOString(), countedCash: 0 }),
  'POST /sales/{id}/receipt/sms': () => ({ phone: '0712345678' }),
  'POST /customers': () => ({ name: `Customer ${randomUUID()}` }),
  'PATCH /customers/{id}': () => ({ name: `Customer ${randomUUID()}` }),
  'POST /customers/{id}/payments': () => ({
    clientRequestId: randomUUID(),
    amount: 100,
    method: 'cash',
    occurredAt: new Date().toISOString(),
  }),
  'POST /bv-payments/subscription-stk-push': () => ({
    plan: 'monthly',
    phoneNumber: '254700000005',
  }),
  'POST /bv-payments/sale-stk-push': () => ({
    amount: 10_000,
    phoneNumber: '254700000005',
    reference: 'r1',
  }),
  'POST /reports/exports': () => ({
    type: 'sales',
    from: '2026-01-01',
    to: '2026-01-02',
    format: 'csv',
  }),
  'POST /webhooks': () => ({ url: 'http://127.0.0.1:9/hook', events: ['*'] }),
  'PATCH /webhooks/{id}': () => ({ description: 'ERP' }),
};

/**
 * Routes whose body is deliberately not a strict schema, and what holds instead. The
 * M-Pesa callback is Safaricom's document: stored raw (API10, unsafe consumption) and only
 * its stkCallback fields are read by the worker; an unknown token stores nothing.
 */
const NOT_STRICT: Record<string, { status: number; code: string }> = {
  'POST /bv-payments/mpesa/callback/{token}': { status: 404, code: 'NOT_FOUND' },
  // Africa's Talking's delivery report (a form): only its known fields are read; a token
  // that is not the deployment's reads nothing.
  'POST /sms/delivery-reports/{token}': { status: 404, code: 'NOT_FOUND' },
};

/** The top-level keys a body schema declares (through optional/default/pipe wrappers). */
function declaredKeys(schema: ZodType | undefined): Set<string> {
  let current = schema;
  for (let i = 0; i < 10 && current && !(current instanceof ZodObject); i++) {
    const def = (current as unknown as { def: { innerType?: ZodType; in?: ZodType } }).def;
    current = def.innerType ?? def.in;
  }
  return new Set(current instanceof ZodObject ? Object.keys(current.shape) : []);
}

/** Sets an own, enumerable key (JSON.stringify then sends `__proto__` as a real member). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * The body with `keys` at the top level and `businessId` in every nested object, and the
 * error path each injection must produce.
 */
function inject(body: Record<string, unknown>, keys: string[]) {
  const paths: string[] = [];
  const walk = (value: unknown, at: string[]) => {
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, [...at, String(index)]));
    else if (value !== null && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      for (const [key, item] of Object.entries(object)) walk(item, [...at, key]);
      if (at.length > 0) {
        setOwn(object, 'businessId', PLACEHOLDER);
        paths.push([...at, 'businessId'].join('.'));
      }
    }
  };
  walk(body, []);
  for (const key of keys) {
    setOwn(body, key, key === 'constructor' ? { prototype: { isAdmin: true } } : 'owner');
    paths.push(key);
  }
  return { text: JSON.stringify(body), paths };
}

/** The body with an own `__proto__` member at the top level and in every nested object. */
function poison(body: Record<string, unknown>): string {
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value)) walk(item);
      setOwn(value as Record<string, unknown>, '__proto__', {
        isAdmin: true,
        businessId: PLACEHOLDER,
      });
    }
  };
  walk(body);
  return JSON.stringify(body);
}

const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
const jsonRoutes = allRoutes.filter(
  (route) => route.request?.body !== undefined && route.bodyType !== 'multipart',
);

/**
 * Rows a public route could create outside the shop (a registered business, an accepted
 * invite's user): counted by the names in the body, so other test files running at the
 * same time do not disturb the count.
 */
async function rowsNamedBy(body: Record<string, unknown>) {
  const result = await deps.pool.query<{ businesses: number; users: number }>(
    `select (select count(*)::int from businesses where name = $1) as businesses,
            (select count(*)::int from users where lower(email) = lower($2) or name = $3) as users`,
    [body.businessName ?? '', body.email ?? '', body.name ?? ''],
  );
  return result.rows[0]!;
}

function send(route: RouteSpec, text: string) {
  const path = route.path.replace(/\{[^}]+\}/g, PLACEHOLDER);
  let request = http[route.method](path).set('Content-Type', 'application/json');
  if (route.access !== 'public') request = request.set('Authorization', shop.owner.auth);
  if (route.idempotency) request = request.set('Idempotency-Key', randomUUID());
  return request.send(text);
}

describe('mass assignment on every route with a JSON body', () => {
  it('has a base body (or a documented exemption) for every such route', () => {
    const covered = [...Object.keys(BASE_BODIES), ...Object.keys(NOT_STRICT)].sort();
    expect(covered).toEqual(jsonRoutes.map(routeKey).sort());
  });

  for (const route of jsonRoutes) {
    const key = routeKey(route);
    it(`${key}: privileged and unknown keys → refused, nothing written, prototype untouched`, async () => {
      const base = BASE_BODIES[key];
      const exempt = NOT_STRICT[key];
      if (!base && !exempt) throw new Error(`${key} takes a body but has no base body here`);
      const declared = declaredKeys(route.request?.body);
      const keys = PRIVILEGED.filter((candidate) => !declared.has(candidate));
      const body = base ? base() : { Body: { stkCallback: {} } };
      const fresh = () => structuredClone(body);
      const { text, paths } = inject(fresh(), keys);

      const before = {
        shop: await businessSnapshot(deps.pool, shop.id),
        named: await rowsNamedBy(body),
      };
      const response = await send(route, text);
      const where = `${key}: ${response.text.slice(0, 400)}`;
      if (exempt) {
        expectProblem(response, exempt.status, exempt.code, where);
      } else {
        expectProblem(response, 400, 'VALIDATION_FAILED', where);
        const errors = response.body.errors as { path: string; code: string }[];
        // /sales/sync validates each sale on its own (a bad one is rejected alone, below):
        // the batch's own schema names only the keys outside the sales.
        const expected =
          key === 'POST /sales/sync' ? paths.filter((path) => !path.startsWith('sales.')) : paths;
        expect(errors.map((error) => error.path).sort(), where).toEqual([...expected].sort());
        expect(new Set(errors.map((error) => error.code)), where).toEqual(
          new Set(['unrecognized_keys']),
        );
      }

      // `__proto__` members anywhere: refused by the JSON parser's poisoning guard.
      const poisoned = await send(route, poison(fresh()));
      const poisonedWhere = `${key} with __proto__: ${poisoned.text.slice(0, 400)}`;
      expectProblem(poisoned, 400, 'VALIDATION_FAILED', poisonedWhere);
      expect(poisoned.body.errors, poisonedWhere).toEqual([
        expect.objectContaining({ path: '__proto__', code: 'unrecognized_keys' }),
      ]);

      expect(await businessSnapshot(deps.pool, shop.id)).toEqual(before.shop);
      expect(await rowsNamedBy(body)).toEqual(before.named);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      expect(({} as Record<string, unknown>).businessId).toBeUndefined();
    });
  }

  it('POST /sales/sync: a sale carrying privileged keys is rejected on its own, nothing recorded', async () => {
    const sale = validSale();
    const { text, paths } = inject(sale, ['cashierId', 'number', 'status', 'constructor']);
    const before = await businessSnapshot(deps.pool, shop.id);
    const response = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .set('Content-Type', 'application/json')
      .send(`{"sales":[${text}]}`);
    expect(response.status, response.text).toBe(200);
    const [result] = response.body.results as {
      status: string;
      error: { code: string; errors: { path: string }[] };
    }[];
    expect(result!.status).toBe('rejected');
    expect(result!.error.code).toBe('VALIDATION_FAILED');
    expect(result!.error.errors.map((error) => error.path).sort()).toEqual([...paths].sort());
    expect(await businessSnapshot(deps.pool, shop.id)).toEqual(before);
  });

  // The upload reads only its `file` part (API.md); other form fields are never read, so
  // they cannot assign anything: the image is stored under the server's own name.
  it('POST /products/{id}/image (multipart): other form fields are ignored, never applied', async () => {
    const own = await insertProduct(deps, shop.id, shop.owner.id);
    const response = await http
      .post(`/products/${own.id}/image`)
      .set('Authorization', shop.owner.auth)
      .field('businessId', PLACEHOLDER)
      .field('imageUrl', 'https://evil.example/x.png')
      .field('price', '1')
      .attach('file', PNG, { filename: 'x.png', contentType: 'image/png' });
    expect(response.status, response.text).toBe(200);
    expect(response.body.imageUrl).toMatch(/\/files\/images\/[0-9a-f]{64}\.png$/);
    const row = await deps.pool.query<{ business_id: string; price: number }>(
      'select business_id, price from products where id = $1',
      [own.id],
    );
    expect(row.rows[0]).toEqual({ business_id: shop.id, price: own.price });
  });
});
