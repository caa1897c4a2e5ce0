import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { exportStorageKey } from '../../src/modules/reports/exports.job.js';
import { startDarajaSimulator } from '../../src/mpesa/simulator/simulator.js';
import { allRoutes } from '../../src/routes.js';
import { signedFileUrl } from '../../src/storage/storage-url.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { countSaleRows, insertProduct, saleBody } from '../helpers/sales-factories.js';
import { businessSnapshot, expectProblem, pathParams, routeKey } from '../helpers/security.js';

/*
 * OWASP API1 (BOLA), generated from the route registry: every route with a path parameter
 * is called by business A's owner (every permission) with the real id of a resource of
 * business B. The answer must be the contract's refusal (404, never 403, never data) and
 * B's rows must be byte-for-byte unchanged. Then B's own owner sends the same request and
 * succeeds, proving the id was real and the request well-formed (so the 404 is tenancy,
 * not a typo). A route with a path parameter but no fixture below fails: adding a route
 * means adding its fixture.
 */

const simulator = await startDarajaSimulator({ callbackDelayMs: 30 });
afterAll(() => simulator.close());
const storageDir = mkdtempSync(path.join(os.tmpdir(), 'bapi-bola-'));
/** The deployment's SMS delivery-report token (AT_DELIVERY_REPORT_TOKEN). */
const SMS_TOKEN = 'bola-delivery-report-token-0123456789abcdef';
const { http, deps, config } = createTestApp({
  env: {
    MPESA_ENV: 'simulator',
    MPESA_BASE_URL: simulator.url,
    STORAGE_LOCAL_DIR: storageDir,
    AT_DELIVERY_REPORT_TOKEN: SMS_TOKEN,
  },
});

/** A real 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

/** One request, sent first by A's owner, then by B's owner. */
interface Attempt {
  /** The path with B's ids filled in. */
  path: string;
  body?: object;
  multipart?: Buffer;
  /** The contract's answer to A (defaults to 404 NOT_FOUND). */
  refused?: { status: number; code: string };
  /** B's legitimate request, when it differs from A's (a signed link, a secret token). */
  legitimate?: { path: string; body?: object; anonymous?: boolean };
  /** What B's legitimate request answers. */
  allowed: number;
  /** Routes that take no bearer token: A sends the request anonymously too. */
  anonymous?: boolean;
}

// ---------- B's resources, each made through the API as a real client would ----------

const make = (b: TestBusiness) => {
  const as = (method: Method, url: string) => http[method](url).set('Authorization', b.owner.auth);
  const created = (response: supertest.Response) => {
    expect(response.status, response.text).toBeLessThan(300);
    return response.body as { id: string };
  };
  return {
    product: async () =>
      created(await as('post', '/products').send({ name: 'B soap', price: 5000 })).id,
    category: async () =>
      created(await as('post', '/categories').send({ name: `B cat ${randomUUID()}` })).id,
    location: async () =>
      created(await as('post', '/locations').send({ name: `B branch ${randomUUID()}` })).id,
    invite: async () =>
      created(
        await as('post', '/invites').send({
          email: `b-${randomUUID()}@example.test`,
          role: 'cashier',
        }),
      ).id,
    sale: async () => {
      const product = await insertProduct(deps, b.id, b.owner.id);
      return created(await as('post', '/sales').send(saleBody([{ product }]))).id;
    },
    /** An open shift of B's (its id made by B's till). */
    shift: async () => {
      const id = randomUUID();
      created(
        await as('post', '/shifts').send({
          id,
          register: `B till ${randomUUID().slice(0, 8)}`,
          openedAt: new Date(Date.now() - 60_000).toISOString(),
          openingFloat: 10_000,
        }),
      );
      return id;
    },
    /** A customer who owes 5,000 (one credit sale). */
    customer: async () => {
      const customer = created(await as('post', '/customers').send({ name: 'B customer' })).id;
      const product = await insertProduct(deps, b.id, b.owner.id, { price: 5000 });
      created(
        await as('post', '/sales').send(
          saleBody([{ product }], {
            customerId: customer,
            payments: [{ method: 'credit', amount: 5000 }],
          }),
        ),
      );
      return customer;
    },
    webhook: async () =>
      created(await as('post', '/webhooks').send({ url: 'http://127.0.0.1:9/hook', events: ['*'] }))
        .id,
    delivery: async (webhookId: string) =>
      created(await as('post', `/webhooks/${webhookId}/test`)).id,
    /** A pending sale payment (the simulator's "no callback ever" phone) and its callback URL. */
    payment: async () => {
      const payment = created(
        await as('post', '/bv-payments/sale-stk-push')
          .set('Idempotency-Key', randomUUID())
          .send({ amount: 10_000, phoneNumber: '254700000005', reference: 'bola' }),
      );
      const push = simulator.requests.filter((request) => request.path.includes('stkpush')).at(-1)!
        .body as { CallBackURL: string };
      return { id: payment.id, callbackPath: new URL(push.CallBackURL).pathname };
    },
    export: async () =>
      created(
        await as('post', '/reports/exports').send({
          type: 'sales',
          from: '2026-01-01',
          to: '2026-01-31',
          format: 'csv',
        }),
      ).id,
  };
};

type Fixtures = ReturnType<typeof make>;

/** Every route with a path parameter → how to attack it with B's real ids. */
const FIXTURES: Record<string, (b: Fixtures, shop: TestBusiness) => Promise<Attempt>> = {
  'PATCH /users/{id}': (_, shop) =>
    Promise.resolve({
      path: `/users/${shop.cashier.id}`,
      body: { status: 'disabled' },
      allowed: 200,
    }),
  'DELETE /invites/{id}': async (b) => ({ path: `/invites/${await b.invite()}`, allowed: 204 }),
  'GET /products/{id}': async (b) => ({ path: `/products/${await b.product()}`, allowed: 200 }),
  'PATCH /products/{id}': async (b) => ({
    path: `/products/${await b.product()}`,
    body: { name: 'Hijacked', price: 1 },
    allowed: 200,
  }),
  'DELETE /products/{id}': async (b) => ({ path: `/products/${await b.product()}`, allowed: 204 }),
  'POST /products/{id}/image': async (b) => ({
    path: `/products/${await b.product()}/image`,
    multipart: PNG,
    allowed: 200,
  }),
  'PATCH /categories/{id}': async (b) => ({
    path: `/categories/${await b.category()}`,
    body: { name: `Hijacked ${randomUUID()}` },
    allowed: 200,
  }),
  'DELETE /categories/{id}': async (b) => ({
    path: `/categories/${await b.category()}`,
    allowed: 204,
  }),
  'GET /locations/{id}': async (b) => ({ path: `/locations/${await b.location()}`, allowed: 200 }),
  'PATCH /locations/{id}': async (b) => ({
    path: `/locations/${await b.location()}`,
    body: { name: `Hijacked ${randomUUID()}` },
    allowed: 200,
  }),
  'DELETE /locations/{id}': async (b) => ({
    path: `/locations/${await b.location()}`,
    allowed: 204,
  }),
  // Private files are capability URLs: A holds no signature for B's export (contract: 403).
  'GET /files/{folder}/{name}': async (b) => {
    const key = exportStorageKey(await b.export());
    await deps.storage.put(key, Buffer.from('saleNumber\n1\n'), { contentType: 'text/csv' });
    const signed = new URL(signedFileUrl(config, key, new Date(Date.now() + 60_000)));
    return {
      path: `/files/${key}`,
      refused: { status: 403, code: 'FORBIDDEN' },
      legitimate: { path: `${signed.pathname}${signed.search}`, anonymous: true },
      allowed: 200,
      anonymous: true,
    };
  },
  // Public documentation keyed by a slug, not a business's id: nothing of B's to reach; an
  // unknown slug is 404 like an unknown id.
  'GET /errors/{slug}': () =>
    Promise.resolve({
      path: '/errors/no-such-problem',
      legitimate: { path: '/errors/not-found', anonymous: true },
      allowed: 200,
      anonymous: true,
    }),
  'GET /sales/{id}': async (b) => ({ path: `/sales/${await b.sale()}`, allowed: 200 }),
  'GET /sales/{id}/receipt': async (b) => ({
    path: `/sales/${await b.sale()}/receipt?format=text&width=58`,
    allowed: 200,
  }),
  'POST /sales/{id}/void': async (b) => ({
    path: `/sales/${await b.sale()}/void`,
    body: { reason: 'not yours' },
    allowed: 200,
  }),
  'POST /sales/{id}/receipt/email': async (b) => ({
    path: `/sales/${await b.sale()}/receipt/email`,
    body: { email: 'attacker@example.test' },
    allowed: 202,
  }),
  'GET /shifts/{id}': async (b) => ({ path: `/shifts/${await b.shift()}`, allowed: 200 }),
  'GET /shifts/{id}/report': async (b) => ({
    path: `/shifts/${await b.shift()}/report`,
    allowed: 200,
  }),
  'POST /shifts/{id}/cash-movements': async (b) => ({
    path: `/shifts/${await b.shift()}/cash-movements`,
    body: { clientRequestId: randomUUID(), type: 'pay_out', amount: 100, note: 'stolen' },
    allowed: 201,
  }),
  'POST /shifts/{id}/close': async (b) => ({
    path: `/shifts/${await b.shift()}/close`,
    body: { closedAt: new Date().toISOString(), countedCash: 0 },
    allowed: 200,
  }),
  'GET /customers/{id}': async (b) => ({ path: `/customers/${await b.customer()}`, allowed: 200 }),
  'PATCH /customers/{id}': async (b) => ({
    path: `/customers/${await b.customer()}`,
    body: { name: 'Hijacked' },
    allowed: 200,
  }),
  'DELETE /customers/{id}': async (b) => ({
    path: `/customers/${await b.customer()}`,
    allowed: 204,
  }),
  'POST /customers/{id}/payments': async (b) => ({
    path: `/customers/${await b.customer()}/payments`,
    body: {
      clientRequestId: randomUUID(),
      amount: 1000,
      method: 'cash',
      occurredAt: new Date().toISOString(),
    },
    allowed: 201,
  }),
  'GET /customers/{id}/statement': async (b) => ({
    path: `/customers/${await b.customer()}/statement`,
    allowed: 200,
  }),
  'POST /sales/{id}/receipt/sms': async (b) => ({
    path: `/sales/${await b.sale()}/receipt/sms`,
    body: { phone: '0712345678' },
    allowed: 202,
  }),
  'POST /customers/{id}/remind': async (b, shop) => {
    const customer = await b.customer();
    await http
      .patch(`/customers/${customer}`)
      .set('Authorization', shop.owner.auth)
      .send({ phone: '0712345678' });
    return { path: `/customers/${customer}/remind`, allowed: 202 };
  },
  // The parameter is the deployment's secret, not a business's id: nothing of B's to reach
  // with a guess; the real token (what Africa's Talking calls) answers 200.
  'POST /sms/delivery-reports/{token}': () =>
    Promise.resolve({
      path: '/sms/delivery-reports/not-the-token',
      body: { id: 'ATXid_x', status: 'Success', phoneNumber: '+254712345678' },
      legitimate: {
        path: `/sms/delivery-reports/${SMS_TOKEN}`,
        body: { id: 'ATXid_x', status: 'Success', phoneNumber: '+254712345678' },
        anonymous: true,
      },
      allowed: 200,
      anonymous: true,
    }),
  'GET /bv-payments/{id}': async (b) => ({
    path: `/bv-payments/${(await b.payment()).id}`,
    allowed: 200,
  }),
  // The callback's parameter is a per-payment secret, not an id: B's payment id (which A
  // could learn) is not a token, and B's real secret URL is what Safaricom calls.
  'POST /bv-payments/mpesa/callback/{token}': async (b) => {
    const payment = await b.payment();
    const callback = {
      Body: {
        stkCallback: {
          MerchantRequestID: 'm',
          CheckoutRequestID: `ws_CO_${randomUUID()}`,
          ResultCode: 1032,
          ResultDesc: 'Request cancelled by user',
        },
      },
    };
    return {
      path: `/bv-payments/mpesa/callback/${payment.id}`,
      body: callback,
      legitimate: { path: payment.callbackPath, body: callback, anonymous: true },
      allowed: 200,
      anonymous: true,
    };
  },
  'GET /reports/exports/{id}': async (b) => ({
    path: `/reports/exports/${await b.export()}`,
    allowed: 200,
  }),
  'GET /webhooks/{id}': async (b) => ({ path: `/webhooks/${await b.webhook()}`, allowed: 200 }),
  'PATCH /webhooks/{id}': async (b) => ({
    path: `/webhooks/${await b.webhook()}`,
    body: { url: 'http://127.0.0.1:10/stolen', enabled: false },
    allowed: 200,
  }),
  'DELETE /webhooks/{id}': async (b) => ({ path: `/webhooks/${await b.webhook()}`, allowed: 204 }),
  'POST /webhooks/{id}/rotate-secret': async (b) => ({
    path: `/webhooks/${await b.webhook()}/rotate-secret`,
    allowed: 200,
  }),
  'POST /webhooks/{id}/test': async (b) => ({
    path: `/webhooks/${await b.webhook()}/test`,
    allowed: 202,
  }),
  'GET /webhooks/{id}/deliveries': async (b) => ({
    path: `/webhooks/${await b.webhook()}/deliveries`,
    allowed: 200,
  }),
  'POST /webhooks/{id}/deliveries/{deliveryId}/retry': async (b) => {
    const webhook = await b.webhook();
    return {
      path: `/webhooks/${webhook}/deliveries/${await b.delivery(webhook)}/retry`,
      allowed: 202,
    };
  },
};

function send(
  method: Method,
  url: string,
  auth: string | undefined,
  attempt: { body?: object; multipart?: Buffer },
) {
  let request = http[method](url);
  if (auth) request = request.set('Authorization', auth);
  if (attempt.multipart) {
    return request.attach('file', attempt.multipart, {
      filename: 'x.png',
      contentType: 'image/png',
    });
  }
  return attempt.body === undefined ? request : request.send(attempt.body);
}

const a: TestBusiness = await createBusiness(deps);
const idRoutes = allRoutes.filter((route) => pathParams(route.path).length > 0);

describe('BOLA: every route with a path parameter, called with another business’s real id', () => {
  it('has a fixture for every such route in the registry, and none for routes that are gone', () => {
    expect(Object.keys(FIXTURES).sort()).toEqual(idRoutes.map(routeKey).sort());
  });

  for (const route of idRoutes) {
    const key = routeKey(route);
    it(`${key} → refused, B unchanged; B's own request succeeds`, async () => {
      const fixture = FIXTURES[key];
      if (!fixture) throw new Error(`${key} has a path parameter but no BOLA fixture`);
      const b = await createBusiness(deps);
      const attempt = await fixture(make(b), b);
      const refused = attempt.refused ?? { status: 404, code: 'NOT_FOUND' };

      const callers = attempt.anonymous ? [a.owner.auth, undefined] : [a.owner.auth];
      for (const auth of callers) {
        const before = await businessSnapshot(deps.pool, b.id);
        const response = await send(route.method, attempt.path, auth, attempt);
        expectProblem(
          response,
          refused.status,
          refused.code,
          `${key} as A ${auth ? 'owner' : 'anonymous'}`,
        );
        expect(JSON.stringify(response.body)).not.toContain(b.id);
        expect(await businessSnapshot(deps.pool, b.id), `${key}: B's rows changed`).toEqual(before);
      }

      const legitimate = attempt.legitimate ?? { path: attempt.path, body: attempt.body };
      const own = await send(
        route.method,
        legitimate.path,
        legitimate.anonymous ? undefined : b.owner.auth,
        { body: legitimate.body, multipart: attempt.multipart },
      );
      expect(own.status, `${key} as B's owner: ${own.text.slice(0, 300)}`).toBe(attempt.allowed);
    });
  }
});

describe('BOLA: another business’s ids inside bodies, queries and mixed paths', () => {
  interface BodyCase {
    name: string;
    send: (b: TestBusiness, foreign: ForeignIds) => Promise<supertest.Response>;
    refused: { status: number; code: string; path?: string };
  }
  interface ForeignIds {
    product: string;
    category: string;
    cashier: string;
    webhook: string;
    delivery: string;
  }

  const CASES: BodyCase[] = [
    {
      name: "POST /sales with B's productId",
      send: async (_, foreign) => {
        const own = await insertProduct(deps, a.id, a.owner.id);
        const body = saleBody([{ product: { ...own, id: foreign.product } }]);
        return http.post('/sales').set('Authorization', a.cashier.auth).send(body);
      },
      refused: { status: 422, code: 'UNPROCESSABLE', path: 'lines.0.productId' },
    },
    {
      name: "POST /sales/sync with B's productId (the batch answers 200, that sale rejected)",
      send: async (_, foreign) => {
        const own = await insertProduct(deps, a.id, a.owner.id);
        const body = { sales: [saleBody([{ product: { ...own, id: foreign.product } }])] };
        return http.post('/sales/sync').set('Authorization', a.cashier.auth).send(body);
      },
      refused: { status: 200, code: 'rejected' },
    },
    {
      name: "POST /inventory/adjustments with B's productId",
      send: (_, foreign) =>
        http
          .post('/inventory/adjustments')
          .set('Authorization', a.owner.auth)
          .set('Idempotency-Key', randomUUID())
          .send({ items: [{ productId: foreign.product, type: 'receive', quantity: 5 }] }),
      refused: { status: 404, code: 'NOT_FOUND', path: 'items.0.productId' },
    },
    {
      name: "POST /products with B's categoryId",
      send: (_, foreign) =>
        http
          .post('/products')
          .set('Authorization', a.owner.auth)
          .send({ name: 'A soap', price: 100, categoryId: foreign.category }),
      refused: { status: 422, code: 'UNPROCESSABLE', path: 'categoryId' },
    },
    {
      name: "PATCH /products/{A's id} with B's categoryId",
      send: async (_, foreign) => {
        const own = await insertProduct(deps, a.id, a.owner.id);
        return http
          .patch(`/products/${own.id}`)
          .set('Authorization', a.owner.auth)
          .send({ categoryId: foreign.category });
      },
      refused: { status: 422, code: 'UNPROCESSABLE', path: 'categoryId' },
    },
    {
      name: "GET /inventory/movements?productId=B's product",
      send: (_, foreign) =>
        http
          .get(`/inventory/movements?productId=${foreign.product}`)
          .set('Authorization', a.owner.auth),
      refused: { status: 404, code: 'NOT_FOUND' },
    },
    {
      name: "POST /webhooks/{A's webhook}/deliveries/{B's delivery}/retry",
      send: async (_, foreign) => {
        const own = await http
          .post('/webhooks')
          .set('Authorization', a.owner.auth)
          .send({ url: 'http://127.0.0.1:9/hook', events: ['*'] });
        return http
          .post(`/webhooks/${own.body.id}/deliveries/${foreign.delivery}/retry`)
          .set('Authorization', a.owner.auth);
      },
      refused: { status: 404, code: 'NOT_FOUND' },
    },
  ];

  for (const testCase of CASES) {
    it(`${testCase.name} → ${testCase.refused.status} ${testCase.refused.code}; nothing written`, async () => {
      const b = await createBusiness(deps);
      const fixtures = make(b);
      const webhook = await fixtures.webhook();
      const foreign: ForeignIds = {
        product: (await insertProduct(deps, b.id, b.owner.id)).id,
        category: await fixtures.category(),
        cashier: b.cashier.id,
        webhook,
        delivery: await fixtures.delivery(webhook),
      };
      const beforeB = await businessSnapshot(deps.pool, b.id);
      const salesOfA = await countSaleRows(deps, a.id);
      const response = await testCase.send(b, foreign);
      const where = `${testCase.name}: ${response.text.slice(0, 300)}`;
      if (testCase.refused.status === 200) {
        expect(response.status, where).toBe(200);
        expect(response.body.results.map((result: { status: string }) => result.status)).toEqual([
          testCase.refused.code,
        ]);
      } else {
        expectProblem(response, testCase.refused.status, testCase.refused.code, where);
        if (testCase.refused.path) {
          expect(response.body.errors, where).toContainEqual(
            expect.objectContaining({ path: testCase.refused.path }),
          );
        }
      }
      expect(JSON.stringify(response.body)).not.toContain(b.id);
      expect(await countSaleRows(deps, a.id)).toEqual(salesOfA);
      expect(await businessSnapshot(deps.pool, b.id)).toEqual(beforeB);
    });
  }

  it("list filters naming B's ids return none of B's rows", async () => {
    const b = await createBusiness(deps);
    const fixtures = make(b);
    const category = await fixtures.category();
    await fixtures.sale();
    const cases = [
      `/sales?cashierId=${b.owner.id}`,
      `/products?categoryId=${category}&includeArchived=true`,
    ];
    for (const url of cases) {
      const response = await http.get(url).set('Authorization', a.owner.auth);
      expect({ url, status: response.status, data: response.body.data }).toEqual({
        url,
        status: 200,
        data: [],
      });
    }
  });
});
