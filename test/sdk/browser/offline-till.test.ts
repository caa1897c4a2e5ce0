import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TillSale } from '../../../sdk/src/offline/till.js';
import { returns, sales } from '../../../src/db/schema/index.js';
import { startCutProxy, type CutProxy } from '../../helpers/cut-proxy.js';
import { createBusiness } from '../../helpers/factories.js';
import { eventually } from '../../helpers/jobs.js';
import {
  cleanups,
  createStack,
  killHard,
  startApi,
  startWorker,
  type ApiProcess,
  type Stack,
} from '../../helpers/resilience.js';
import { insertProduct, type TestProduct } from '../../helpers/sales-factories.js';
import { launch, servePage, userDataDir, type PageServer } from '../../helpers/browser.js';

// The offline till kit in a real browser: Debian's Chromium driven by Playwright, a page bundled
// from the SDK's sources, the real API process behind a TCP proxy that can cut connections.

interface TillState {
  pending: number;
  deadLetters: { key: string; code?: string; status?: number }[];
  synced: string[];
  rejected: string[];
  online: boolean;
  live?: string;
  events: string[];
}
interface TillWindow {
  tillTest: {
    init(options: {
      baseUrl: string;
      token: string;
      deviceId: string;
      batchSize?: number;
      liveBaseUrl?: string;
    }): Promise<void>;
    record(sale: TillSale): Promise<{ key: string; receiptNumber: string }>;
    state(): Promise<TillState>;
    write(kind: string, args: unknown[]): Promise<{ key: string; body: Record<string, unknown> }>;
    catalog(refresh: boolean): Promise<Record<string, number>>;
  };
}
type InitOptions = Parameters<TillWindow['tillTest']['init']>[0];

const undo = cleanups();
let stack: Stack;
let api: ApiProcess;
let proxy: CutProxy;
let site: PageServer;

beforeAll(async () => {
  site = await servePage();
  undo.add(() => site.close());
  stack = await createStack({ env: { LOG_LEVEL: 'warn', CORS_ORIGINS: site.origin } });
  undo.add(() => stack.close());
  // The worker runs the outbox relay: without it no event reaches the realtime sockets.
  const [started, worker] = await Promise.allSettled([startApi(stack.env), startWorker(stack.env)]);
  if (started.status === 'fulfilled') {
    api = started.value;
    undo.add(() => killHard(api.proc));
  }
  if (worker.status === 'fulfilled') undo.add(() => killHard(worker.value));
  if (started.status === 'rejected') throw started.reason;
  if (worker.status === 'rejected') throw worker.reason;
  proxy = await startCutProxy(Number(new URL(api.base).port));
  undo.add(() => proxy.close());
}, 120_000);
afterAll(() => undo.run(), 60_000);

async function shop() {
  const business = await createBusiness(stack.deps);
  const product = await insertProduct(stack.deps, business.id, business.manager.id, {
    price: 5_000,
    stockQuantity: 1_000,
  });
  return { business, product };
}

const sale = (product: TestProduct, productId = product.id): TillSale => ({
  lines: [{ productId, quantity: 1 }],
  payments: [{ method: 'cash', amount: product.price }],
});

async function openTab(context: BrowserContext, init: InitOptions): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${site.origin}/`);
  await page.evaluate(
    (options) => (globalThis as unknown as TillWindow).tillTest.init(options),
    init,
  );
  return page;
}

const record = (page: Page, body: TillSale) =>
  page.evaluate((input) => (globalThis as unknown as TillWindow).tillTest.record(input), body);
const stateOf = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as TillWindow).tillTest.state());

const write = (page: Page, kind: string, args: unknown[]) =>
  page.evaluate(
    ([name, input]) => (globalThis as unknown as TillWindow).tillTest.write(name, input),
    [kind, args] as const,
  );

const catalogOf = (page: Page, refresh: boolean) =>
  page.evaluate((again) => (globalThis as unknown as TillWindow).tillTest.catalog(again), refresh);

const salesOf = (businessId: string) =>
  stack.deps.db
    .select({
      number: sales.number,
      clientRequestId: sales.clientRequestId,
      receiptNumber: sales.receiptNumber,
    })
    .from(sales)
    .where(eq(sales.businessId, businessId))
    .orderBy(asc(sales.number));

const oneTo = (count: number) => Array.from({ length: count }, (_, index) => index + 1);
const receiptCounter = (receipt: string | null) => Number(receipt?.split('-').at(-1));

describe('the offline till in Chromium', () => {
  it('30 sales rung up offline in two tabs, one reloaded, the browser closed and reopened → exactly 30 on the server, gap-free, every tab told', async () => {
    const { business, product } = await shop();
    const profile = await userDataDir();
    undo.add(profile.remove);
    const init: InitOptions = {
      baseUrl: proxy.base,
      token: business.cashier.token,
      deviceId: 'front-till',
    };
    const recorded: { key: string; receiptNumber: string }[] = [];

    let context = await launch(profile.dir);
    undo.add(() => context.close());
    let a = await openTab(context, init);
    let b = await openTab(context, init);
    await context.setOffline(true);
    for (let index = 0; index < 10; index++)
      recorded.push(await record(index % 2 ? a : b, sale(product)));
    // A reload with no network: the page comes from its service worker, the queue from IndexedDB.
    await a.reload();
    await a.evaluate(
      (options) => (globalThis as unknown as TillWindow).tillTest.init(options),
      init,
    );
    expect((await stateOf(a)).pending).toBe(10);
    for (let index = 10; index < 20; index++)
      recorded.push(await record(index % 2 ? a : b, sale(product)));

    // The browser closed and opened again, still offline.
    await context.close();
    context = await launch(profile.dir);
    await context.setOffline(true);
    a = await openTab(context, init);
    b = await openTab(context, init);
    for (let index = 20; index < 30; index++)
      recorded.push(await record(index % 2 ? a : b, sale(product)));
    expect(await stateOf(b)).toMatchObject({ pending: 30, online: false });
    expect(await salesOf(business.id)).toEqual([]);

    await context.setOffline(false);
    await eventually(
      async () => {
        const states = await Promise.all([stateOf(a), stateOf(b)]);
        return states.every((state) => state.pending === 0 && state.synced.length === 30);
      },
      60_000,
      'both tabs told of 30 synced sales',
    );
    const keys = recorded.map((entry) => entry.key);
    for (const page of [a, b]) {
      const state = await stateOf(page);
      expect(new Set(state.synced)).toEqual(new Set(keys));
      expect(state.deadLetters).toEqual([]);
    }
    const rows = await salesOf(business.id);
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((row) => row.clientRequestId))).toEqual(new Set(keys));
    expect(rows.map((row) => row.number)).toEqual(oneTo(30));
    expect(rows.map((row) => receiptCounter(row.receiptNumber)).sort((x, y) => x - y)).toEqual(
      oneTo(30),
    );
    expect(rows.every((row) => row.receiptNumber?.startsWith('front-till-'))).toBe(true);
    await context.close();
  }, 120_000);

  it('a sale the server refuses ends in the dead letters with its problem; the others go through', async () => {
    const { business, product } = await shop();
    const profile = await userDataDir();
    undo.add(profile.remove);
    const context = await launch(profile.dir);
    undo.add(() => context.close());
    const page = await openTab(context, {
      baseUrl: proxy.base,
      token: business.cashier.token,
      deviceId: 'back-till',
    });
    const good1 = await record(page, sale(product));
    const bad = await record(page, sale(product, randomUUID()));
    const good2 = await record(page, sale(product));
    await eventually(
      async () => {
        const state = await stateOf(page);
        return state.pending === 0 && state.synced.length === 2;
      },
      30_000,
      'the queue drained',
    );
    const state = await stateOf(page);
    expect(state.deadLetters).toEqual([{ key: bad.key, code: expect.any(String), status: 422 }]);
    expect(state.rejected).toEqual([bad.key]);
    expect((await salesOf(business.id)).map((row) => row.clientRequestId)).toEqual([
      good1.key,
      good2.key,
    ]);
    await context.close();
  }, 60_000);

  it('the API restarted (SIGTERM) during the replay and a batch cut after it was sent → still exactly once', async () => {
    const { business, product } = await shop();
    const profile = await userDataDir();
    undo.add(profile.remove);
    const context = await launch(profile.dir);
    undo.add(() => context.close());
    const page = await openTab(context, {
      baseUrl: proxy.base,
      token: business.cashier.token,
      deviceId: 'side-till',
      batchSize: 5,
    });
    await context.setOffline(true);
    const keys: string[] = [];
    for (let index = 0; index < 40; index++) keys.push((await record(page, sale(product))).key);

    // The first batch reaches the server and its answer is lost; the third batch meets SIGTERM.
    proxy.cutNext(/^POST \/sales\/sync /, 1);
    let batches = 0;
    const first = api;
    proxy.onRequest = (line) => {
      if (line.startsWith('POST /sales/sync ') && ++batches === 3) first.proc.child.kill('SIGTERM');
    };
    await context.setOffline(false);
    expect(await first.proc.exited).toBe(0);
    proxy.onRequest = undefined;
    expect(proxy.cuts()).toBeGreaterThanOrEqual(1);
    const before = (await salesOf(business.id)).length;
    expect(before).toBeLessThan(40);

    api = await startApi(stack.env);
    undo.add(() => killHard(api.proc));
    proxy.setTarget(Number(new URL(api.base).port));
    await eventually(async () => (await stateOf(page)).pending === 0, 60_000, 'the queue drained');

    const rows = await salesOf(business.id);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((row) => row.clientRequestId))).toEqual(new Set(keys));
    expect(rows.map((row) => row.number)).toEqual(oneTo(40));
    const state = await stateOf(page);
    expect(state.deadLetters).toEqual([]);
    expect(new Set(state.synced)).toEqual(new Set(keys));
    await context.close();
  }, 120_000);

  it('a shift opened offline with its sales and closed offline → replayed in that order, the Z report right', async () => {
    const { business, product } = await shop();
    const profile = await userDataDir();
    undo.add(profile.remove);
    const context = await launch(profile.dir);
    undo.add(() => context.close());
    const page = await openTab(context, {
      baseUrl: proxy.base,
      token: business.cashier.token,
      deviceId: 'shift-till',
    });
    await context.setOffline(true);
    const opened = await write(page, 'openShift', [{ register: 'Till 1', openingFloat: 10_000 }]);
    const shiftId = opened.body.id as string;
    for (let index = 0; index < 3; index++) await record(page, { ...sale(product), shiftId });
    // Counted: the float and three cash sales of 5,000.
    await write(page, 'closeShift', [shiftId, { countedCash: 25_000 }]);
    const before = proxy.requests.length;

    await context.setOffline(false);
    await eventually(async () => (await stateOf(page)).pending === 0, 30_000, 'the queue drained');
    expect(await stateOf(page)).toMatchObject({ deadLetters: [] });
    expect(proxy.requests.slice(before).filter((line) => line.startsWith('POST '))).toEqual([
      'POST /shifts HTTP/1.1',
      'POST /sales/sync HTTP/1.1',
      `POST /shifts/${shiftId}/close HTTP/1.1`,
    ]);

    const response = await fetch(`${api.base}/shifts/${shiftId}/report`, {
      headers: { authorization: business.cashier.auth },
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as Record<string, unknown>;
    expect(report).toMatchObject({
      shift: { id: shiftId, status: 'closed', register: 'Till 1', openingFloat: 10_000 },
      sales: { count: 3, net: 15_000 },
      expectedCash: 25_000,
      countedCash: 25_000,
      difference: 0,
      lateSales: 0,
    });
    expect(report.byPaymentMethod).toEqual(
      expect.arrayContaining([{ method: 'cash', amount: 15_000 }]),
    );
    await context.close();
  }, 60_000);

  it('the catalog mirror serves offline (after a reload) and takes a price changed elsewhere on the next delta', async () => {
    const { business, product } = await shop();
    const profile = await userDataDir();
    undo.add(profile.remove);
    const context = await launch(profile.dir);
    undo.add(() => context.close());
    const init: InitOptions = {
      baseUrl: proxy.base,
      token: business.cashier.token,
      deviceId: 'shelf-till',
    };
    const page = await openTab(context, init);
    expect(await catalogOf(page, true)).toEqual({ [product.id]: 5_000 });

    await context.setOffline(true);
    // Another till changes the price while this one is offline.
    const patched = await fetch(`${api.base}/products/${product.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: business.manager.auth },
      body: JSON.stringify({ price: 6_500 }),
    });
    expect(patched.status).toBe(200);
    await page.reload();
    await page.evaluate(
      (options) => (globalThis as unknown as TillWindow).tillTest.init(options),
      init,
    );
    expect(await catalogOf(page, false)).toEqual({ [product.id]: 5_000 });
    await expect(catalogOf(page, true)).rejects.toThrow();

    await context.setOffline(false);
    expect(await catalogOf(page, true)).toEqual({ [product.id]: 6_500 });
    await context.close();
  }, 60_000);

  it('the catalog mirror takes a price changed on another till within 2 s through the live subscription', async () => {
    const { business, product } = await shop();
    const profile = await userDataDir();
    undo.add(profile.remove);
    const context = await launch(profile.dir);
    undo.add(() => context.close());
    // The till's writes go through the proxy; its live socket straight to the API.
    const page = await openTab(context, {
      baseUrl: proxy.base,
      token: business.cashier.token,
      deviceId: 'live-till',
      liveBaseUrl: api.base,
    });
    expect(await catalogOf(page, true)).toEqual({ [product.id]: 5_000 });
    await eventually(
      async () => (await stateOf(page)).live === 'live',
      30_000,
      'the live subscription authenticated',
    );

    // Another till (the manager's) changes the price through the API.
    const patched = await fetch(`${api.base}/products/${product.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: business.manager.auth },
      body: JSON.stringify({ price: 6_500 }),
    });
    expect(patched.status).toBe(200);
    const answeredAt = Date.now();
    // Issue 23's functional bound: the local copy (no refresh asked) shows it within 2 s.
    let price: number | undefined;
    while (Date.now() - answeredAt <= 2_000) {
      price = (await catalogOf(page, false))[product.id];
      if (price === 6_500) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(price).toBe(6_500);
    expect((await stateOf(page)).events).toContain('product.updated');
    await context.close();
  }, 60_000);

  it('a shift opened offline with its sales and a return of one of them → replayed in causal order, the Z report right', async () => {
    const { business, product } = await shop();
    const profile = await userDataDir();
    undo.add(profile.remove);
    const context = await launch(profile.dir);
    undo.add(() => context.close());
    // Returns are manager+ (POST /returns): the manager runs this till.
    const page = await openTab(context, {
      baseUrl: proxy.base,
      token: business.manager.token,
      deviceId: 'return-till',
    });
    await context.setOffline(true);
    const opened = await write(page, 'openShift', [{ register: 'Till 2', openingFloat: 10_000 }]);
    const shiftId = opened.body.id as string;
    const sold: string[] = [];
    for (let index = 0; index < 3; index++)
      sold.push((await record(page, { ...sale(product), shiftId })).key);
    // The second sale's only line comes back; 5,000 leaves the drawer in cash.
    const returned = await write(page, 'recordReturn', [
      {
        saleClientRequestId: sold[1],
        reason: 'Damaged packet',
        lines: [{ saleLineIndex: 0, quantity: 1 }],
        refunds: [{ method: 'cash', amount: 5_000 }],
        shiftId,
      },
    ]);
    // Counted: the float, three cash sales of 5,000, less the cash refund.
    await write(page, 'closeShift', [shiftId, { countedCash: 20_000 }]);
    const before = proxy.requests.length;
    expect(await stateOf(page)).toMatchObject({ pending: 6, online: false });

    await context.setOffline(false);
    await eventually(async () => (await stateOf(page)).pending === 0, 30_000, 'the queue drained');
    expect(await stateOf(page)).toMatchObject({ deadLetters: [] });
    expect(proxy.requests.slice(before).filter((line) => line.startsWith('POST '))).toEqual([
      'POST /shifts HTTP/1.1',
      'POST /sales/sync HTTP/1.1',
      'POST /returns HTTP/1.1',
      `POST /shifts/${shiftId}/close HTTP/1.1`,
    ]);

    // On the server: one return, of the second sale, in this shift, refunded 5,000 in cash.
    const [saleRow] = await stack.deps.db
      .select({ id: sales.id })
      .from(sales)
      .where(eq(sales.clientRequestId, sold[1]!));
    const returnRows = await stack.deps.db
      .select({
        clientRequestId: returns.clientRequestId,
        saleId: returns.saleId,
        shiftId: returns.shiftId,
        total: returns.total,
      })
      .from(returns)
      .where(eq(returns.businessId, business.id));
    expect(returnRows).toEqual([
      { clientRequestId: returned.key, saleId: saleRow!.id, shiftId, total: 5_000 },
    ]);

    const response = await fetch(`${api.base}/shifts/${shiftId}/report`, {
      headers: { authorization: business.manager.auth },
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as Record<string, unknown>;
    expect(report).toMatchObject({
      shift: { id: shiftId, status: 'closed', register: 'Till 2', openingFloat: 10_000 },
      sales: { count: 3, net: 15_000 },
      returns: { count: 1, total: 5_000 },
      refundsByMethod: [{ method: 'cash', amount: 5_000 }],
      // float + cash tendered − change − cash refunds = 10,000 + 15,000 − 0 − 5,000
      expectedCash: 20_000,
      countedCash: 20_000,
      difference: 0,
      lateSales: 0,
    });
    expect(report.byPaymentMethod).toEqual(
      expect.arrayContaining([{ method: 'cash', amount: 15_000 }]),
    );
    await context.close();
  }, 60_000);
});
