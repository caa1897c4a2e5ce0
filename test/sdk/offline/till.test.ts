import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStorage } from '../../../sdk/src/offline/node.js';
import { createTillOn, type Till, type TillOptions } from '../../../sdk/src/offline/till.js';
import { sales } from '../../../src/db/schema/index.js';
import { createTestApp } from '../../helpers/app.js';
import { postCustomer } from '../../helpers/customers.js';
import { startCutProxy, type CutProxy } from '../../helpers/cut-proxy.js';
import { TEST_PASSWORD, createBusiness, type TestBusiness } from '../../helpers/factories.js';
import { eventually } from '../../helpers/jobs.js';
import { listenForTest } from '../../helpers/listen.js';
import { insertProduct, type TestProduct } from '../../helpers/sales-factories.js';

// The offline till's queue in Node, on the file storage, against the real app on a real port
// (behind a TCP proxy that can cut a connection after the request reached the server).

const ctx = createTestApp();
// One request a minute, counted apart from the other tests: the second one is 429.
const limited = createTestApp({
  env: { RATE_LIMIT_MAX: '1', REDIS_PREFIX: `sdk-till-rl-${randomUUID().slice(0, 8)}` },
});
let limitedBase: string;
let directBase: string;
let proxy: CutProxy;
let dir: string;

beforeAll(async () => {
  directBase = (await listenForTest(ctx.app)).baseUrl;
  limitedBase = (await listenForTest(limited.app)).baseUrl;
  proxy = await startCutProxy(Number(new URL(directBase).port));
  dir = await mkdtemp(path.join(os.tmpdir(), 'till-'));
});
afterAll(async () => {
  await proxy.close();
  await rm(dir, { recursive: true, force: true });
});

const tills: Till[] = [];
afterAll(async () => {
  for (const till of tills) await till.close();
});

async function shop() {
  const business = await createBusiness(ctx.deps);
  const product = await insertProduct(ctx.deps, business.id, business.manager.id, {
    price: 5_000,
    stockQuantity: 1_000,
  });
  return { business, product };
}

async function openTill(
  business: TestBusiness,
  file = path.join(dir, `${randomUUID()}.json`),
  options: Partial<TillOptions> = {},
) {
  const till = await createTillOn(fileStorage(file), {
    baseUrl: proxy.base,
    getToken: () => business.cashier.token,
    deviceId: options.deviceId ?? 'till-1',
    autoSync: false,
    ...options,
  });
  tills.push(till);
  return { till, file };
}

const sale = (product: TestProduct, overrides: Record<string, unknown> = {}) => ({
  lines: [{ productId: product.id, quantity: 1 }],
  payments: [{ method: 'cash' as const, amount: product.price }],
  ...overrides,
});

const countSales = async (businessId: string) => (await serverSales(businessId)).length;

const serverSales = (businessId: string) =>
  ctx.deps.db
    .select()
    .from(sales)
    .where(eq(sales.businessId, businessId))
    .orderBy(asc(sales.number));

describe('recording', () => {
  it('is on disk when recordSale resolves, with clientRequestId, occurredAt and a device receipt number filled', async () => {
    const { business, product } = await shop();
    const { till, file } = await openTill(business);
    const given = randomUUID();
    const first = await till.recordSale(sale(product, { clientRequestId: given }));
    await till.recordSale(sale(product));
    await till.recordSale(sale(product, { receiptNumber: 'OWN-7' }));

    // Another process opening the same file sees all three, in order.
    const pending = await fileStorage(file).pending();
    expect(pending.map((item) => item.key)[0]).toBe(given);
    expect(pending.map((item) => item.body.receiptNumber)).toEqual([
      'till-1-1',
      'till-1-2',
      'OWN-7',
    ]);
    expect(first.body.occurredAt).toEqual(expect.any(String));
    expect(Date.parse(first.body.occurredAt as string)).toBeLessThanOrEqual(Date.now());
    expect(pending.every((item) => item.kind === 'sale' && item.path === '/sales')).toBe(true);
  });

  it('never gives a receipt number twice or skips one when two tills share a storage and record at once', async () => {
    const { business, product } = await shop();
    const { till: a, file } = await openTill(business);
    const { till: b } = await openTill(business, file);
    await Promise.all(
      Array.from({ length: 20 }, (_, index) => (index % 2 ? a : b).recordSale(sale(product))),
    );
    const numbers = (await a.pending()).map((item) => item.body.receiptNumber as string);
    expect(numbers.map((number) => Number(number.split('-').at(-1))).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, index) => index + 1),
    );
  });

  it('refuses a deviceId that could not prefix a receipt number', async () => {
    const { business } = await shop();
    await expect(openTill(business, undefined, { deviceId: 'till 1/a' })).rejects.toThrow(
      /deviceId/,
    );
  });
});

describe('sync', () => {
  it('replays the queue in /sales/sync batches, purges what was answered and tells the listeners', async () => {
    const { business, product } = await shop();
    const { till } = await openTill(business, undefined, { batchSize: 4 });
    const synced: string[] = [];
    till.on('synced', (event) => synced.push(event.item.key));
    const keys: string[] = [];
    for (let index = 0; index < 10; index++) keys.push((await till.recordSale(sale(product))).key);
    const before = proxy.requests.length;

    const report = await till.sync();
    expect(report).toEqual({ synced: 10, rejected: 0, remaining: 0 });
    expect(proxy.requests.slice(before)).toEqual(Array(3).fill('POST /sales/sync HTTP/1.1'));
    expect(synced).toEqual(keys);
    const rows = await serverSales(business.id);
    expect(rows.map((row) => row.clientRequestId)).toEqual(keys);
    expect(rows.map((row) => row.receiptNumber)).toEqual(
      keys.map((_, index) => `till-1-${index + 1}`),
    );
    expect(await till.pending()).toEqual([]);
  });

  it('moves a refused sale to the dead letters with its problem; the others go through', async () => {
    const { business, product } = await shop();
    const { till } = await openTill(business);
    const rejected: string[] = [];
    till.on('rejected', (letter) => rejected.push(letter.key));
    await till.recordSale(sale(product));
    const bad = await till.recordSale(
      sale(product, { lines: [{ productId: randomUUID(), quantity: 1 }] }),
    );
    await till.recordSale(sale(product));

    const report = await till.sync();
    expect(report).toMatchObject({ synced: 2, rejected: 1, remaining: 0 });
    const letters = await till.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ key: bad.key, problem: { status: 422, retryable: false } });
    expect(letters[0]!.problem.code).toEqual(expect.any(String));
    expect(rejected).toEqual([bad.key]);
    expect((await serverSales(business.id)).map((row) => row.clientRequestId)).not.toContain(
      bad.key,
    );
    expect(await serverSales(business.id)).toHaveLength(2);

    // A return recorded against the refused sale (by its clientRequestId) never leaves the till.
    await till.recordReturn({
      saleClientRequestId: bad.key,
      reason: 'Wrong size',
      lines: [{ saleLineIndex: 0, quantity: 1 }],
      refunds: [{ method: 'cash', amount: product.price }],
    });
    const before = proxy.requests.length;
    expect(await till.sync()).toMatchObject({ synced: 0, rejected: 1, remaining: 0 });
    expect(proxy.requests.slice(before)).toEqual([]);
    expect((await till.deadLetters()).map((letter) => letter.problem.code)).toEqual([
      letters[0]!.problem.code,
      'SALE_NOT_SYNCED',
    ]);
    await expect(till.recordReturn({ reason: 'x', lines: [], refunds: [] })).rejects.toThrow(
      /saleId or saleClientRequestId/,
    );

    await till.dropDeadLetters([bad.seq]);
    expect(await till.deadLetters()).toHaveLength(1);
  });

  it('buries a sale whose clientRequestId the server cannot echo instead of resending it forever', async () => {
    const { business, product } = await shop();
    const { till } = await openTill(business);
    const unechoable = `not-a-uuid-${'x'.repeat(70)}`;
    await till.recordSale(sale(product, { clientRequestId: unechoable }));
    await till.recordSale(sale(product));
    expect(await till.sync()).toMatchObject({ synced: 1, rejected: 1, remaining: 0 });
    expect(await till.deadLetters()).toEqual([
      expect.objectContaining({
        key: unechoable,
        problem: expect.objectContaining({ status: 400 }),
      }),
    ]);
  });

  it('keeps a batch whose answer was lost and replays it exactly once', async () => {
    const { business, product } = await shop();
    const { till } = await openTill(business);
    for (let index = 0; index < 5; index++) await till.recordSale(sale(product));
    proxy.cutNext(/^POST \/sales\/sync /);

    const cut = await till.sync();
    expect(cut.remaining).toBe(5);
    expect(cut.error).toMatchObject({ retryable: true, retryInMs: expect.any(Number) });
    expect(proxy.cuts()).toBeGreaterThan(0);
    // The server did the work; the till never heard.
    await eventually(
      async () => (await serverSales(business.id)).length === 5,
      10_000,
      'the cut batch',
    );

    const duplicates: string[] = [];
    till.on('synced', (event) => duplicates.push(event.status));
    expect(await till.sync()).toEqual({ synced: 5, rejected: 0, remaining: 0 });
    expect(duplicates).toEqual(Array(5).fill('duplicate'));
    expect(await serverSales(business.id)).toHaveLength(5);
  });

  it('keeps everything while the server is unreachable', async () => {
    const { business, product } = await shop();
    const { till } = await openTill(business);
    await till.recordSale(sale(product));
    proxy.setDown(true);
    try {
      const report = await till.sync();
      expect(report).toMatchObject({ synced: 0, remaining: 1, error: { retryable: true } });
    } finally {
      proxy.setDown(false);
    }
    expect(await till.sync()).toEqual({ synced: 1, rejected: 0, remaining: 0 });
  });

  it('keeps the queue on 429 and waits at least Retry-After before the next try', async () => {
    const { business, product } = await shop();
    const { till } = await openTill(business, undefined, { baseUrl: limitedBase });
    await till.recordSale(sale(product));
    const headers = { authorization: business.cashier.auth };
    expect((await fetch(`${limitedBase}/products`, { headers })).status).toBe(200);
    const refused = await fetch(`${limitedBase}/products`, { headers });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(2);

    const report = await till.sync();
    expect(report).toMatchObject({ synced: 0, remaining: 1, error: { retryable: true } });
    expect(report.error!.message).toMatch(/^429 /);
    // The backoff alone would be ≤ 1 s here (baseDelayMs 1000, first failure).
    expect(report.error!.retryInMs).toBeGreaterThanOrEqual((retryAfter - 2) * 1000);
    expect(await countSales(business.id)).toBe(0);
  });

  it('refreshes an expired access token first, then syncs', async () => {
    const { business, product } = await shop();
    const login = await fetch(`${directBase}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: business.cashier.email, password: TEST_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const session = (await login.json()) as { refreshToken: string };
    const expired = await ctx.deps.accessTokens.sign(
      {
        userId: business.cashier.id,
        businessId: business.id,
        role: 'cashier',
        sessionId: business.cashier.sessionId,
      },
      new Date(Date.now() - 24 * 3600 * 1000),
    );
    let token = expired;
    let refreshToken = session.refreshToken;
    const refreshed: string[] = [];
    const { till } = await openTill(business, undefined, {
      getToken: () => token,
      getRefreshToken: () => refreshToken,
      onTokens: (tokens) => {
        token = tokens.accessToken;
        refreshToken = tokens.refreshToken;
        refreshed.push(tokens.accessToken);
      },
    });
    await till.recordSale(sale(product));
    expect(await till.sync()).toEqual({ synced: 1, rejected: 0, remaining: 0 });
    expect(refreshed).toHaveLength(1);
    expect(await serverSales(business.id)).toHaveLength(1);
  });

  it('replays in the order things were recorded: a shift opening before its sales, its closing after', async () => {
    const { business, product } = await shop();
    const { till } = await openTill(business);
    const shift = await till.openShift({ register: 'Till 1', openingFloat: 10_000 });
    const shiftId = shift.body.id as string;
    await till.recordSale(sale(product, { shiftId }));
    await till.recordSale(sale(product));
    await till.closeShift(shiftId, { countedCash: 20_000 });
    await till.recordSale(sale(product));
    const before = proxy.requests.length;
    await till.sync();
    expect(proxy.requests.slice(before)).toEqual([
      'POST /shifts HTTP/1.1',
      'POST /sales/sync HTTP/1.1',
      `POST /shifts/${shiftId}/close HTTP/1.1`,
      'POST /sales/sync HTTP/1.1',
    ]);
  });
});

describe('customer payments', () => {
  it('a credit sale and the payment on that account, both offline, replay in order: the balance is right', async () => {
    const { business, product } = await shop();
    const customer = await postCustomer(ctx.http, business.cashier);
    const { till } = await openTill(business);
    await till.recordSale({
      customerId: customer.id,
      lines: [{ productId: product.id, quantity: 2 }],
      payments: [{ method: 'credit', amount: 2 * product.price }],
    });
    // Paid back in part; before the sale reached the server this would exceed the balance (422).
    const payment = await till.recordCustomerPayment(customer.id, {
      amount: 3_000,
      method: 'cash',
    });
    expect(payment.path).toBe(`/customers/${customer.id}/payments`);

    expect(await till.sync()).toEqual({ synced: 2, rejected: 0, remaining: 0 });
    const read = await ctx.http
      .get(`/customers/${customer.id}`)
      .set('Authorization', business.cashier.auth);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ balance: 2 * product.price - 3_000 });

    // The same payment again (its answer lost, say) changes nothing.
    const again = await fetch(`${directBase}${payment.path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: business.cashier.auth,
        'idempotency-key': payment.key,
      },
      body: JSON.stringify(payment.body),
    });
    expect(again.status).toBeLessThan(300);
    const reread = await ctx.http
      .get(`/customers/${customer.id}`)
      .set('Authorization', business.cashier.auth);
    expect(reread.body).toMatchObject({ balance: 2 * product.price - 3_000 });
  });
});

describe('the catalog mirror', () => {
  it('fetches the delta by updatedSince, answers 304 when nothing changed, and reads the local copy', async () => {
    const { business, product } = await shop();
    const other = await insertProduct(ctx.deps, business.id, business.manager.id, {
      name: 'Archived soon',
    });
    const { till, file } = await openTill(business);

    expect(await till.catalog.refresh()).toEqual({ changed: 2 });
    expect((await till.catalog.products()).map((item) => item.id).sort()).toEqual(
      [product.id, other.id].sort(),
    );

    // Nothing changed: the same delta URL with the stored ETag → 304, nothing re-read.
    const before = proxy.requests.length;
    expect(await till.catalog.refresh()).toEqual({ changed: 0 });
    expect(proxy.requests.slice(before)).toEqual([
      expect.stringMatching(/^GET \/products\?limit=200&updatedSince=/),
    ]);

    // A price change and an archive made elsewhere reach the mirror through the delta.
    const patched = await fetch(`${directBase}/products/${product.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: business.manager.auth },
      body: JSON.stringify({ price: 7_500 }),
    });
    expect(patched.status).toBe(200);
    const archived = await fetch(`${directBase}/products/${other.id}`, {
      method: 'DELETE',
      headers: { authorization: business.manager.auth },
    });
    expect(archived.status).toBe(204);
    expect(await till.catalog.refresh()).toEqual({ changed: 2 });
    expect(await till.catalog.products()).toEqual([
      expect.objectContaining({ id: product.id, price: 7_500 }),
    ]);

    // The copy is on disk: another till on the same storage reads it with no network.
    const { till: reopened } = await openTill(business, file, { baseUrl: 'http://127.0.0.1:9' });
    expect((await reopened.catalog.product(product.id))?.price).toBe(7_500);
  });

  it('runs a delta when the event source delivers a catalog or stock event, and passes every event on', async () => {
    const { business, product } = await shop();
    let deliver: ((event: { type: string }) => void) | undefined;
    let stopped = false;
    const { till } = await openTill(business, undefined, {
      events: {
        subscribe: (onEvent) => {
          deliver = onEvent;
          return () => {
            stopped = true;
          };
        },
      },
    });
    const seen: string[] = [];
    till.on('event', (event) => seen.push(event.type));
    deliver!({ type: 'sale.created' });
    deliver!({ type: 'product.updated' });
    await eventually(
      async () => (await till.catalog.product(product.id)) !== undefined,
      10_000,
      'the delta after product.updated',
    );
    expect(seen).toEqual(['sale.created', 'product.updated']);
    await till.close();
    expect(stopped).toBe(true);
  });
});
