import { and, asc, eq } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sales, stockMovements } from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { CreateSaleBody } from '../../src/modules/sales/sales.schemas.js';
import { hashSaleBody } from '../../src/modules/sales/sales.service.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import {
  countSaleRows,
  insertProduct,
  saleBody,
  stockOf,
  defaultLocationId,
} from '../helpers/sales-factories.js';
import { outboxRowsOf } from '../helpers/outbox.js';

// Two apps on separate pools: two API "processes" sharing one PostgreSQL.
const one = createTestApp();
const two = createTestApp();
const { http, deps } = one;

interface SyncResult {
  clientRequestId: string | null;
  status: string;
  sale?: { id: string; number: number };
  error?: { status: number; code: string; detail: string; errors?: unknown[] };
}

const numbersOf = async (businessId: string) =>
  (
    await deps.db
      .select({ number: sales.number })
      .from(sales)
      .where(eq(sales.businessId, businessId))
      .orderBy(asc(sales.number))
  ).map((row) => row.number);

describe('POST /sales/sync', () => {
  it('records 97 of 100 and rejects 3 with reasons; replaying the batch changes nothing', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, {
      price: 500,
      stockQuantity: 1_000,
    });
    const batch: Record<string, unknown>[] = Array.from({ length: 100 }, () =>
      saleBody([{ product }]),
    );
    batch[10] = { ...batch[10], lines: [{ productId: product.id, quantity: 0 }] }; // malformed
    batch[50] = { ...batch[50], total: 1 }; // totals mismatch
    batch[99] = {
      ...batch[99],
      lines: [{ productId: '0190f1c2-7a3e-7c1d-9b2a-3f4e5d6c7b8a', quantity: 1 }],
    }; // unknown product

    const first = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales: batch });
    expect(first.status).toBe(200);
    const results = first.body.results as SyncResult[];
    expect(results.map((result) => result.clientRequestId)).toEqual(
      batch.map((sale) => sale.clientRequestId),
    );
    const rejected = [10, 50, 99];
    results.forEach((result, index) => {
      expect(result.status).toBe(rejected.includes(index) ? 'rejected' : 'created');
    });
    expect(results[10]!.error).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ path: 'lines.0.quantity' }],
    });
    expect(results[50]!.error).toMatchObject({ status: 422, code: 'TOTALS_MISMATCH' });
    expect(results[99]!.error).toMatchObject({
      status: 422,
      code: 'UNPROCESSABLE',
      errors: [{ path: 'lines.0.productId' }],
    });
    expect(results[0]!.sale).toMatchObject({ clientRequestId: batch[0]!.clientRequestId });
    expect(results[10]!.sale).toBeUndefined();
    expect(await numbersOf(shop.id)).toEqual(Array.from({ length: 97 }, (_, index) => index + 1));

    const counts = await countSaleRows(deps, shop.id);
    expect(counts).toEqual({ sales: 97, lines: 97, payments: 97, movements: 97, outbox: 97 });
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 903, ledger: 903 });

    const replay = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales: batch });
    expect(replay.status).toBe(200);
    const replayed = replay.body.results as SyncResult[];
    replayed.forEach((result, index) => {
      if (rejected.includes(index)) {
        expect(result.status).toBe('rejected');
        const { requestId: _new, ...error } = result.error as Record<string, unknown>;
        const { requestId: _old, ...before } = results[index]!.error as Record<string, unknown>;
        expect(error).toEqual(before);
      } else {
        expect(result.status).toBe('duplicate');
        expect(result.sale).toEqual(results[index]!.sale);
      }
    });
    expect(await countSaleRows(deps, shop.id)).toEqual(counts);
    expect((await stockOf(deps, product.id)).stockQuantity).toBe(903);
  });

  it('chains stock levels across the sales of a batch and emits low_stock once, when crossed', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, {
      stockQuantity: 5,
      lowStockThreshold: 2,
    });
    const batch = [1, 2, 3].map(() => saleBody([{ product, quantity: 2 }]));
    const response = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales: batch });
    const results = response.body.results as SyncResult[];
    expect(results.map((result) => result.status)).toEqual(['created', 'created', 'created']);
    expect(results.map((result) => result.sale!.number)).toEqual([1, 2, 3]);
    const movements = await deps.db
      .select({ saleId: stockMovements.saleId, quantityAfter: stockMovements.quantityAfter })
      .from(stockMovements)
      .where(and(eq(stockMovements.productId, product.id), eq(stockMovements.type, 'sale')));
    expect(
      results.map(
        (result) =>
          movements.find((movement) => movement.saleId === result.sale!.id)?.quantityAfter,
      ),
    ).toEqual([3, 1, -1]);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: -1, ledger: -1 });
    const lowStock = (await outboxRowsOf(deps, shop.id)).filter(
      (row) => row.type === 'inventory.low_stock',
    );
    expect(lowStock.map((row) => row.payload)).toEqual([
      {
        productId: product.id,
        locationId: await defaultLocationId(deps, shop.id),
        name: product.name,
        sku: product.sku,
        quantity: 1,
        stockQuantity: 1,
        lowStockThreshold: 2,
      },
    ]);
  });

  it('answers a repeated clientRequestId within a batch as a duplicate, another body as rejected', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const sale = saleBody([{ product }]);
    const response = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales: [sale, sale, { ...sale, note: 'changed' }, 'not an object'] });
    expect(response.status).toBe(200);
    const results = response.body.results as SyncResult[];
    expect(results.map((result) => result.status)).toEqual([
      'created',
      'duplicate',
      'rejected',
      'rejected',
    ]);
    expect(results[1]!.sale!.id).toBe(results[0]!.sale!.id);
    expect(results[2]!.error!.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(results[3]).toMatchObject({
      clientRequestId: null,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect((await countSaleRows(deps, shop.id)).sales).toBe(1);
  });

  it('echoes a rejected clientRequestId of up to 64 characters and refuses an unbounded occurredAt', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const instant = new Date(Date.now() - 60_000).toISOString();
    const response = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({
        sales: [
          saleBody([{ product }], { clientRequestId: 'not-a-uuid' }),
          saleBody([{ product }], { clientRequestId: 'x'.repeat(65) }),
          // A well-formed instant whose fraction runs to 2000 digits.
          saleBody([{ product }], { occurredAt: instant.replace('Z', `${'0'.repeat(2000)}Z`) }),
        ],
      });
    expect(response.status).toBe(200);
    const results = response.body.results as SyncResult[];
    expect(results.map((result) => [result.status, result.clientRequestId])).toEqual([
      ['rejected', 'not-a-uuid'],
      ['rejected', null],
      ['rejected', expect.any(String)],
    ]);
    expect(results[2]!.error!.errors).toEqual([expect.objectContaining({ path: 'occurredAt' })]);
    expect((await countSaleRows(deps, shop.id)).sales).toBe(0);
  });

  it('refuses a body that is not {sales: [...]} or holds more than 100 sales with 400', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const bodies = [
      [saleBody([{ product }])],
      { sales: saleBody([{ product }]) },
      { sales: [], extra: true },
      { sales: Array.from({ length: 101 }, () => saleBody([{ product }])) },
    ];
    for (const body of bodies) {
      const response = await http
        .post('/sales/sync')
        .set('Authorization', shop.cashier.auth)
        .send(body);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await countSaleRows(deps, shop.id)).sales).toBe(0);
  });

  it('takes bodies above 1 MB up to 5 MB, and answers 413 beyond', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 100 });
    const line = { productId: product.id, quantity: 1, unitPrice: 100, discount: 0 };
    const batch = Array.from({ length: 100 }, () =>
      saleBody([], {
        lines: Array.from({ length: 150 }, () => line),
        payments: [{ method: 'cash', amount: 15_000 }],
      }),
    );
    expect(JSON.stringify({ sales: batch }).length).toBeGreaterThan(1_100_000);
    const large = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales: batch });
    expect(large.status).toBe(200);
    expect(
      (large.body.results as SyncResult[]).every((result) => result.status === 'created'),
    ).toBe(true);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 100 - 15_000 });

    const tooLarge = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ sales: [], padding: 'x'.repeat(5_300_000) }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('has the shared guards', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'post',
        path: '/sales/sync',
        body: { sales: [] },
        allowed: ['owner', 'manager', 'cashier'],
        namesResource: false,
      },
    );
  });
});

describe('a batch racing another request for one of its clientRequestIds', () => {
  it('falls back to one transaction per sale: the raced one is a duplicate, numbers stay gap-free', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 50 });
    const batch = [1, 2, 3].map(() => saleBody([{ product }]));
    const raced = CreateSaleBody.parse(batch[1]);
    // Another request holds an uncommitted insert of the second sale's clientRequestId.
    const other = new pg.Client({ connectionString: deps.config.database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(
        `insert into sales (id, business_id, client_request_id, request_hash, number, cashier_id,
           occurred_at, received_at, subtotal, discount, tax, total, change)
         values ($1, $2, $3, $4, 1000, $5, now(), now(), 0, 0, 0, 0, 0)`,
        [newId(), shop.id, raced.clientRequestId, hashSaleBody(raced), shop.cashier.id],
      );
      const pending = http
        .post('/sales/sync')
        .set('Authorization', shop.cashier.auth)
        .send({ sales: batch })
        .then((response) => response);
      // The batch waits on the unique index until the other transaction commits.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await other.query('commit');
      const response = await pending;
      expect(response.status).toBe(200);
      const results = response.body.results as SyncResult[];
      expect(results.map((result) => result.status)).toEqual(['created', 'duplicate', 'created']);
      expect(results[1]!.sale!.number).toBe(1000);
      expect(results.map((result) => result.sale!.number)).toEqual([1, 1000, 2]);
    } finally {
      await other.end();
    }
    expect(await numbersOf(shop.id)).toEqual([1, 2, 1000]);
    expect(await countSaleRows(deps, shop.id)).toMatchObject({ sales: 3, movements: 2, outbox: 2 });
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 48, ledger: 48 });
  });
});

describe('exactly once across processes, gap-free numbers', () => {
  it('two API processes hammered with the same sales record each exactly once', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 500 });
    const bodies = Array.from({ length: 12 }, () => saleBody([{ product }]));
    const requests = bodies.flatMap((body) =>
      [one.http, two.http, one.http, two.http].map((agent) =>
        agent.post('/sales').set('Authorization', shop.cashier.auth).send(body),
      ),
    );
    // The same sales through the batch endpoint of both processes, at the same time.
    const batches = [one.http, two.http].map((agent) =>
      agent.post('/sales/sync').set('Authorization', shop.manager.auth).send({ sales: bodies }),
    );
    const [responses, batchResponses] = await Promise.all([
      Promise.all(requests),
      Promise.all(batches),
    ]);
    for (const response of responses) expect([200, 201]).toContain(response.status);
    const ids = new Map<string, Set<string>>();
    for (const response of responses) {
      const body = response.body as { id: string; clientRequestId: string };
      ids.set(body.clientRequestId, (ids.get(body.clientRequestId) ?? new Set()).add(body.id));
    }
    for (const batch of batchResponses) {
      expect(batch.status).toBe(200);
      for (const result of batch.body.results as SyncResult[]) {
        expect(['created', 'duplicate']).toContain(result.status);
        ids.get(result.clientRequestId!)!.add(result.sale!.id);
      }
    }
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    const created =
      responses.filter((response) => response.status === 201).length +
      batchResponses.flatMap((batch) =>
        (batch.body.results as SyncResult[]).filter((result) => result.status === 'created'),
      ).length;
    expect(created).toBe(12);
    expect(await countSaleRows(deps, shop.id)).toEqual({
      sales: 12,
      lines: 12,
      payments: 12,
      movements: 12,
      outbox: 12,
    });
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 488, ledger: 488 });
    expect(await numbersOf(shop.id)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
  });

  it('concurrent sales by two cashiers get numbers 1..N with no gap and no repeat', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 700 });
    const bad = await insertProduct(deps, shop.id, shop.owner.id);
    const requests = Array.from({ length: 40 }, (_, index) => {
      const cashier = index % 2 === 0 ? shop.cashier : shop.cashier2;
      const agent = index % 3 === 0 ? two.http : one.http;
      // Every fifth sale fails inside its transaction (after locking): its number is given back.
      const body =
        index % 5 === 4
          ? saleBody([{ product: bad }], { total: 1 })
          : saleBody([{ product }, { product: bad }]);
      return agent.post('/sales').set('Authorization', cashier.auth).send(body);
    });
    const responses = await Promise.all(requests);
    expect(responses.filter((response) => response.status === 201)).toHaveLength(32);
    expect(responses.filter((response) => response.status === 422)).toHaveLength(8);
    expect(await numbersOf(shop.id)).toEqual(Array.from({ length: 32 }, (_, index) => index + 1));
    const byCashier = await deps.db
      .select({ cashierId: sales.cashierId })
      .from(sales)
      .where(eq(sales.businessId, shop.id));
    expect(new Set(byCashier.map((row) => row.cashierId))).toEqual(
      new Set([shop.cashier.id, shop.cashier2.id]),
    );
    expect(
      (await outboxRowsOf(deps, shop.id)).filter((row) => row.type === 'sale.created'),
    ).toHaveLength(32);
  });
});
