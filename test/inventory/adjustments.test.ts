import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { productStock, stockMovements } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { adjust, postProduct } from '../helpers/catalog.js';
import { defaultLocationId } from '../helpers/sales-factories.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const { http, deps } = createTestApp();
const second = createTestApp();

/** The cached level, the sum of the ledger's deltas and the number of movements. */
async function ledger(productId: string) {
  const [product] = await deps.db
    .select({ stock: productStock.quantity })
    .from(productStock)
    .where(eq(productStock.productId, productId));
  const [movements] = await deps.db
    .select({
      sum: sql<number>`coalesce(sum(${stockMovements.delta}), 0)::float8`,
      count: sql<number>`count(*)::int`,
    })
    .from(stockMovements)
    .where(eq(stockMovements.productId, productId));
  return { stock: product!.stock, sum: movements!.sum, count: movements!.count };
}

describe('POST /inventory/adjustments', () => {
  it('receive, adjust and count: 201 {movements}, levels, decimals, stock bumps updatedAt not version', async () => {
    const shop = await createBusiness(deps);
    const rice = await postProduct(http, shop.owner, { unit: 'kg' });
    const response = await adjust(http, shop.manager, [
      { productId: rice.id, type: 'receive', quantity: 10.5, unitCost: 9000, note: 'Supplier A' },
      { productId: rice.id, type: 'adjust', quantity: -0.2 },
      { productId: rice.id, type: 'count', quantity: 7.1 },
    ]);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toEqual({
      movements: [
        {
          id: expect.any(String),
          productId: rice.id,
          locationId: await defaultLocationId(deps, shop.id),
          type: 'receive',
          delta: 10.5,
          quantityAfter: 10.5,
          unitCost: 9000,
          note: 'Supplier A',
          createdBy: shop.manager.id,
          createdAt: expect.any(String),
        },
        expect.objectContaining({ type: 'adjust', delta: -0.2, quantityAfter: 10.3 }),
        expect.objectContaining({ type: 'count', delta: -3.2, quantityAfter: 7.1 }),
      ],
    });
    const product = await http.get(`/products/${rice.id}`).set('Authorization', shop.owner.auth);
    expect(product.body).toMatchObject({ stockQuantity: 7.1, version: 1 });
    expect(product.body.updatedAt > rice.updatedAt).toBe(true);
    expect(await ledger(rice.id)).toEqual({ stock: 7.1, sum: 7.1, count: 3 });
  });

  it('rejects malformed items with 400 and writes nothing', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const cases = [
      { productId: product.id, type: 'count', quantity: -1 },
      { productId: product.id, type: 'receive', quantity: 0 },
      { productId: product.id, type: 'receive', quantity: -3 },
      { productId: product.id, type: 'adjust', quantity: 0 },
      { productId: product.id, type: 'adjust', quantity: 1.2345 },
      { productId: product.id, type: 'adjust', quantity: 1_000_001 },
      { productId: product.id, type: 'adjust', quantity: '5' },
      { productId: product.id, type: 'sale', quantity: -1 },
      { productId: product.id, type: 'adjust', quantity: 1, extra: true },
      { productId: 'not-a-uuid', type: 'adjust', quantity: 1 },
    ];
    for (const item of cases) {
      const response = await adjust(http, shop.owner, [item]);
      expect(response.status, JSON.stringify(item)).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await adjust(http, shop.owner, [])).status).toBe(400);
    const noKey = await http
      .post('/inventory/adjustments')
      .set('Authorization', shop.owner.auth)
      .send({ items: [{ productId: product.id, type: 'receive', quantity: 1 }] });
    expect(noKey.status).toBe(400);
    expect(noKey.body.errors[0].path).toBe('headers.idempotency-key');
    expect(await ledger(product.id)).toEqual({ stock: 0, sum: 0, count: 0 });
  });

  it('a replayed Idempotency-Key returns the same movements and writes nothing twice', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const key = randomUUID();
    const items = [{ productId: product.id, type: 'receive', quantity: 5 }];
    const first = await adjust(http, shop.owner, items, key);
    expect(first.status).toBe(201);
    const replays = await Promise.all([
      adjust(http, shop.owner, items, key),
      adjust(http, shop.owner, items, `"${key}"`),
      second.http
        .post('/inventory/adjustments')
        .set('Authorization', shop.owner.auth)
        .set('Idempotency-Key', key)
        .send({ items }),
    ]);
    for (const replay of replays) {
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
    }
    const reused = await adjust(
      http,
      shop.owner,
      [{ productId: product.id, type: 'receive', quantity: 6 }],
      key,
    );
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await ledger(product.id)).toEqual({ stock: 5, sum: 5, count: 1 });
  });

  it('N concurrent requests with one key: exactly one set of movements', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const key = randomUUID();
    const items = [{ productId: product.id, type: 'receive', quantity: 2 }];
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        (index % 2 === 0 ? http : second.http)
          .post('/inventory/adjustments')
          .set('Authorization', shop.owner.auth)
          .set('Idempotency-Key', key)
          .send({ items }),
      ),
    );
    // The first is stored; others are replays or "still in progress" (409, retryable).
    for (const response of responses) expect([201, 409]).toContain(response.status);
    const created = responses.filter((response) => response.status === 201);
    expect(
      new Set(
        created.map(
          (response) => (response.body as { movements: { id: string }[] }).movements[0]?.id,
        ),
      ).size,
    ).toBe(1);
    expect(await ledger(product.id)).toEqual({ stock: 2, sum: 2, count: 1 });
  });

  it('50 concurrent adjustments on one product from two processes: no lost update', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        (index % 2 === 0 ? http : second.http)
          .post('/inventory/adjustments')
          .set('Authorization', shop.manager.auth)
          .set('Idempotency-Key', randomUUID())
          .send({ items: [{ productId: product.id, type: 'adjust', quantity: 1.5 }] }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(201));
    expect(await ledger(product.id)).toEqual({ stock: 75, sum: 75, count: 50 });
    const afters = responses.map((response) => response.body.movements[0].quantityAfter as number);
    expect(afters.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => (i + 1) * 1.5),
    );
  });

  it('overlapping products in opposite orders never deadlock', async () => {
    const shop = await createBusiness(deps);
    const a = await postProduct(http, shop.owner);
    const b = await postProduct(http, shop.owner);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        adjust(
          index % 2 === 0 ? http : second.http,
          shop.owner,
          index % 2 === 0
            ? [
                { productId: a.id, type: 'adjust', quantity: 1 },
                { productId: b.id, type: 'adjust', quantity: 2 },
              ]
            : [
                { productId: b.id, type: 'adjust', quantity: 2 },
                { productId: a.id, type: 'adjust', quantity: 1 },
              ],
        ),
      ),
    );
    expect(responses.every((response) => response.status === 201)).toBe(true);
    expect(await ledger(a.id)).toEqual({ stock: 20, sum: 20, count: 20 });
    expect(await ledger(b.id)).toEqual({ stock: 40, sum: 40, count: 20 });
  });

  it('ledger invariant: after random adjustment sequences, stockQuantity == sum(delta) == the model', async () => {
    const shop = await createBusiness(deps);
    const catalog = [
      await postProduct(http, shop.owner),
      await postProduct(http, shop.owner),
      await postProduct(http, shop.owner),
    ];
    // Model in thousandths, like the service.
    const model = new Map(catalog.map((product) => [product.id, 0]));
    const quantity = fc.integer({ min: -5_000_000, max: 5_000_000 }).map((milli) => milli / 1000);
    const item = fc.oneof(
      fc.record({
        product: fc.integer({ min: 0, max: 2 }),
        type: fc.constant('receive' as const),
        quantity: quantity.filter((q) => q > 0),
      }),
      fc.record({
        product: fc.integer({ min: 0, max: 2 }),
        type: fc.constant('adjust' as const),
        quantity: quantity.filter((q) => q !== 0),
      }),
      fc.record({
        product: fc.integer({ min: 0, max: 2 }),
        type: fc.constant('count' as const),
        quantity: quantity.map(Math.abs),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(item, { minLength: 1, maxLength: 4 }), { maxLength: 4 }),
        async (batches) => {
          for (const batch of batches) {
            const response = await adjust(
              http,
              shop.owner,
              batch.map((entry) => ({
                productId: catalog[entry.product]!.id,
                type: entry.type,
                quantity: entry.quantity,
              })),
            );
            expect(response.status, JSON.stringify(response.body)).toBe(201);
            for (const entry of batch) {
              const id = catalog[entry.product]!.id;
              const milli = Math.round(entry.quantity * 1000);
              model.set(id, entry.type === 'count' ? milli : model.get(id)! + milli);
            }
          }
          for (const product of catalog) {
            const { stock, sum } = await ledger(product.id);
            expect(stock).toBe(model.get(product.id)! / 1000);
            expect(Math.round(sum * 1000)).toBe(Math.round(stock * 1000));
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it('writes inventory.low_stock only when a level crosses from above the threshold to at/below it', async () => {
    const shop = await createBusiness(deps);
    const tracked = await postProduct(http, shop.owner, { sku: 'LOW-1', lowStockThreshold: 5 });
    const untracked = await postProduct(http, shop.owner, {
      trackStock: false,
      lowStockThreshold: 5,
    });
    await adjust(http, shop.owner, [
      { productId: tracked.id, type: 'receive', quantity: 10 },
      { productId: untracked.id, type: 'receive', quantity: 10 },
    ]).expect(201);
    expect(
      await outboxRowsOf(deps, shop.id, { kind: 'event', types: ['inventory.low_stock'] }),
    ).toEqual([]);

    await adjust(http, shop.owner, [
      { productId: tracked.id, type: 'adjust', quantity: -5 },
      { productId: untracked.id, type: 'adjust', quantity: -9 },
    ]).expect(201);
    await adjust(http, shop.owner, [
      { productId: tracked.id, type: 'adjust', quantity: -1 },
    ]).expect(201); // already low: no second event
    let events = await outboxRowsOf(deps, shop.id, {
      kind: 'event',
      types: ['inventory.low_stock'],
    });
    expect(events.map((event) => event.payload)).toEqual([
      {
        productId: tracked.id,
        locationId: await defaultLocationId(deps, shop.id),
        name: tracked.name,
        sku: 'LOW-1',
        quantity: 5,
        stockQuantity: 5,
        lowStockThreshold: 5,
      },
    ]);

    // Back above, then a count below: a new crossing, a new event.
    await adjust(http, shop.owner, [
      { productId: tracked.id, type: 'receive', quantity: 20 },
      { productId: tracked.id, type: 'count', quantity: 2 },
    ]).expect(201);
    events = await outboxRowsOf(deps, shop.id, { kind: 'event', types: ['inventory.low_stock'] });
    expect(events.map((event) => event.payload.stockQuantity)).toEqual([5, 2]);
  });

  it('another business product → 404 naming the item, nothing written', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const mine = await postProduct(http, shop.owner);
    const theirs = await postProduct(http, other.owner);
    const response = await adjust(http, shop.owner, [
      { productId: mine.id, type: 'receive', quantity: 1 },
      { productId: theirs.id, type: 'receive', quantity: 1 },
    ]);
    expect(response.status).toBe(404);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'items.1.productId' })]);
    expect(await ledger(mine.id)).toEqual({ stock: 0, sum: 0, count: 0 });
    expect(await ledger(theirs.id)).toEqual({ stock: 0, sum: 0, count: 0 });
    const rows = await deps.db
      .select()
      .from(stockMovements)
      .where(and(eq(stockMovements.businessId, other.id)));
    expect(rows).toEqual([]);
  });
});
