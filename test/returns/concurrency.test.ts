import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { returns, saleLines } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { expectProblem } from '../helpers/problem.js';
import { postReturn, returnBody, sell } from '../helpers/returns.js';
import { insertProduct, stockOf } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

async function shopWithSale(quantity: number) {
  const shop = await createBusiness(deps);
  const product = await insertProduct(deps, shop.id, shop.owner.id, {
    price: 1000,
    stockQuantity: 50,
  });
  const sale = await sell(http, shop.cashier, [{ product, quantity }]);
  return { shop, product, sale, line: sale.lines[0]! };
}

const returnsOf = (businessId: string) =>
  deps.db.select().from(returns).where(eq(returns.businessId, businessId));

describe('POST /returns: offline-safe', () => {
  it('replays the same body (200, same return) and refuses a reused clientRequestId (422)', async () => {
    const { shop, sale, line } = await shopWithSale(2);
    const body = returnBody(sale, [{ saleLineId: line.id, quantity: 2 }], 2000);
    const first = await postReturn(http, shop.manager, body);
    expect(first.status).toBe(201);
    // The sale is fully returned now: a replay still answers the return, not an over-return.
    const again = await postReturn(http, shop.manager, {
      ...body,
      occurredAt: new Date(Date.parse(body.occurredAt as string))
        .toISOString()
        .replace('Z', '+00:00'),
      saleId: (body.saleId as string).toUpperCase(),
    });
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const reused = await postReturn(http, shop.manager, { ...body, reason: 'Another reason' });
    expectProblem(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await returnsOf(shop.id)).toHaveLength(1);
    expect(await outboxRowsOf(deps, shop.id, { types: ['return.created'] })).toHaveLength(1);
  });

  it('N concurrent identical requests record one return', async () => {
    const { shop, product, sale, line } = await shopWithSale(3);
    const body = returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000);
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => postReturn(http, shop.manager, body)),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(responses.map((r) => (r.body as { id: string }).id)).size).toBe(1);
    expect(await returnsOf(shop.id)).toHaveLength(1);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 48, ledger: 48 });
  });

  it('one clientRequestId raced over two sales: one return, the other request is refused', async () => {
    const { shop, product, sale, line } = await shopWithSale(1);
    const other = await sell(http, shop.cashier, [{ product, quantity: 1 }]);
    const clientRequestId = randomUUID();
    const [x, y] = await Promise.all([
      postReturn(
        http,
        shop.manager,
        returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000, { clientRequestId }),
      ),
      postReturn(
        http,
        shop.manager,
        returnBody(other, [{ saleLineId: other.lines[0]!.id, quantity: 1 }], 1000, {
          clientRequestId,
        }),
      ),
    ]);
    expect([x.status, y.status].sort()).toEqual([201, 422]);
    expect([x.body.code, y.body.code]).toContain('IDEMPOTENCY_KEY_REUSED');
    expect(await returnsOf(shop.id)).toHaveLength(1);
  });
});

describe('POST /returns: concurrent returns of one line', () => {
  it('20 concurrent returns never return more than was sold; the rest are 422 naming the line', async () => {
    const { shop, product, sale, line } = await shopWithSale(5);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        postReturn(
          http,
          shop.manager,
          returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000),
        ),
      ),
    );
    const created = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(15);
    for (const response of refused) {
      expectProblem(response, 422, 'UNPROCESSABLE');
      expect(response.body.errors[0].path).toBe('lines.0.quantity');
    }
    const rows = await returnsOf(shop.id);
    expect(rows).toHaveLength(5);
    expect(rows.reduce((sum, row) => sum + row.total, 0)).toBe(sale.total);
    // Gap-free numbers, whoever won.
    expect(rows.map((row) => row.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    const [stored] = await deps.db.select().from(saleLines).where(eq(saleLines.id, line.id));
    expect(stored!.returnedQuantity).toBe(5);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 50, ledger: 50 });
  });

  it('a return racing a void: exactly one of them happens', async () => {
    const { shop, product, sale, line } = await shopWithSale(2);
    const [returned, voided] = await Promise.all([
      postReturn(
        http,
        shop.manager,
        returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000),
      ),
      http
        .post(`/sales/${sale.id}/void`)
        .set('Authorization', shop.owner.auth)
        .send({ reason: 'race' }),
    ]);
    // Return first (the void is refused: the sale has returns) or void first (the return is refused).
    expect([
      [201, 422],
      [422, 200],
    ]).toContainEqual([returned.status, voided.status]);
    const after = await http.get(`/sales/${sale.id}`).set('Authorization', shop.owner.auth);
    if (returned.status === 201) {
      expect(after.body).toMatchObject({ status: 'completed', returnedTotal: 1000 });
      expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 49, ledger: 49 });
    } else {
      expect(after.body).toMatchObject({ status: 'voided', returnedTotal: 0 });
      expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 50, ledger: 50 });
    }
  });
});
