import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { returns, stockMovements } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { assign, openLocation } from '../helpers/locations.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { expectProblem } from '../helpers/problem.js';
import { postReturn, returnBody, sell, type SoldSale } from '../helpers/returns.js';
import { insertProduct, stockOf } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

/**
 * Line A: 7 × 1001 = 7007; line B: 3 × 333 − 1 = 998; sale discount 101, spread by largest
 * remainder: A 88, B 13. A is charged 6919 (tax 954 at 16 %), B 985 (tax 136); total 7904.
 */
async function discountedSale() {
  const shop = await createBusiness(deps);
  const a = await insertProduct(deps, shop.id, shop.owner.id, { price: 1001, stockQuantity: 100 });
  const b = await insertProduct(deps, shop.id, shop.owner.id, { price: 333, stockQuantity: 50 });
  const sale = await sell(
    http,
    shop.cashier,
    [
      { product: a, quantity: 7 },
      { product: b, quantity: 3, discount: 1 },
    ],
    { discount: 101 },
  );
  expect(sale.total).toBe(7904);
  expect(sale.tax).toBe(1090);
  const [lineA, lineB] = sale.lines as [SoldSale['lines'][number], SoldSale['lines'][number]];
  return { shop, a, b, sale, lineA, lineB };
}

describe('POST /returns: money', () => {
  it('a sale returned in 3 odd pieces refunds exactly its total and tax, after its discounts', async () => {
    const { shop, sale, lineA, lineB } = await discountedSale();
    const pieces = [
      {
        a: 2,
        b: 1,
        total: 2305,
        tax: 318,
        lines: [
          [1977, 273],
          [328, 45],
        ],
      },
      {
        a: 2.5,
        b: 1,
        total: 2799,
        tax: 386,
        lines: [
          [2471, 341],
          [328, 45],
        ],
      },
      // The last piece of each line takes what is left: 6919 − 1977 − 2471, 985 − 656.
      {
        a: 2.5,
        b: 1,
        total: 2800,
        tax: 386,
        lines: [
          [2471, 340],
          [329, 46],
        ],
      },
    ];
    const numbers: number[] = [];
    for (const piece of pieces) {
      const response = await postReturn(
        http,
        shop.manager,
        returnBody(
          sale,
          [
            { saleLineId: lineA.id, quantity: piece.a },
            { saleLineId: lineB.id, quantity: piece.b },
          ],
          piece.total,
        ),
      );
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect(response.headers.location).toBe(`/returns/${response.body.id}`);
      expect(response.body).toMatchObject({
        saleId: sale.id,
        cashierId: shop.manager.id,
        locationId: sale.locationId,
        shiftId: null,
        subtotal: piece.total,
        total: piece.total,
        tax: piece.tax,
        refunds: [{ method: 'cash', amount: piece.total, reference: null }],
      });
      expect(
        response.body.lines.map((line: { total: number; tax: number }) => [line.total, line.tax]),
      ).toEqual(piece.lines);
      expect(response.body.lines[0]).toMatchObject({
        saleLineId: lineA.id,
        name: expect.any(String),
        unitPrice: 1001,
        quantity: piece.a,
        restocked: true,
      });
      numbers.push(response.body.number);
    }
    expect(pieces.reduce((sum, piece) => sum + piece.total, 0)).toBe(sale.total);
    expect(numbers).toEqual([1, 2, 3]);

    const after = await http.get(`/sales/${sale.id}`).set('Authorization', shop.owner.auth);
    expect(after.body.returnedTotal).toBe(7904);
    expect(
      after.body.lines.map((line: { returnedQuantity: number }) => line.returnedQuantity),
    ).toEqual([7, 3]);

    // Nothing is left to return.
    const more = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: lineB.id, quantity: 0.001 }], 0),
    );
    expectProblem(more, 422, 'UNPROCESSABLE');
    expect(more.body.errors[0].path).toBe('lines.0.quantity');
  });

  it('refuses refunds that do not add up (TOTALS_MISMATCH) and credit refunds of a sale made to no customer (422), writing nothing', async () => {
    const { shop, sale, lineA } = await discountedSale();
    const line = [{ saleLineId: lineA.id, quantity: 2 }];
    for (const refunds of [
      [{ method: 'cash', amount: 1976 }],
      [{ method: 'cash', amount: 1978 }],
      [],
      [
        { method: 'cash', amount: 1000 },
        { method: 'mpesa', amount: 976, reference: 'QGH7' },
      ],
    ]) {
      const response = await postReturn(http, shop.manager, returnBody(sale, line, 0, { refunds }));
      expectProblem(response, 422, 'TOTALS_MISMATCH');
      expect(response.body.errors[0].path).toBe('refunds');
    }
    const credit = await postReturn(
      http,
      shop.manager,
      returnBody(sale, line, 0, {
        refunds: [
          { method: 'cash', amount: 977 },
          { method: 'credit', amount: 1000 },
        ],
      }),
    );
    expectProblem(credit, 422, 'UNPROCESSABLE');
    expect(credit.body.errors[0]).toMatchObject({
      path: 'refunds.1.method',
      code: 'no_customer',
    });

    const split = await postReturn(
      http,
      shop.manager,
      returnBody(sale, line, 0, {
        refunds: [
          { method: 'cash', amount: 1000 },
          { method: 'mpesa', amount: 977, reference: 'QGH7' },
        ],
      }),
    );
    expect(split.status).toBe(201);
    // The refused attempts took no number (gap-free).
    expect(split.body.number).toBe(1);
    expect(
      await deps.db.select().from(returns).where(eq(returns.businessId, shop.id)),
    ).toHaveLength(1);
  });
});

describe('POST /returns: what may be returned', () => {
  it('refuses zero, negative and over-precise quantities, unknown fields and missing fields (400)', async () => {
    const { shop, sale, lineA } = await discountedSale();
    const bad: Record<string, unknown>[] = [
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 0 }], 0),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: -1 }], 0),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1.0005 }], 0),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: '1' } as never], 0),
      returnBody(sale, [], 0),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 0, {
        refunds: [{ method: 'cash', amount: -5 }],
      }),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 0, {
        refunds: [{ method: 'cheque', amount: 5 }],
      }),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 0, { total: 988 }),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 0, { reason: '' }),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 0, { saleId: 'nope' }),
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 0, { cashierId: randomUUID() }),
    ];
    const { reason: _reason, ...withoutReason } = returnBody(
      sale,
      [{ saleLineId: lineA.id, quantity: 1 }],
      0,
    );
    bad.push(withoutReason);
    for (const body of bad) {
      expectProblem(
        await postReturn(http, shop.manager, body),
        400,
        'VALIDATION_FAILED',
        JSON.stringify(body),
      );
    }
    const count = await deps.db.select().from(returns).where(eq(returns.businessId, shop.id));
    expect(count).toHaveLength(0);
  });

  it('refuses more than was sold, a line of another sale, a line twice and a voided sale (422)', async () => {
    const { shop, a, sale, lineA } = await discountedSale();
    const over = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 7.001 }], 0),
    );
    expectProblem(over, 422, 'UNPROCESSABLE');
    expect(over.body.errors[0].path).toBe('lines.0.quantity');

    const other = await sell(http, shop.cashier, [{ product: a, quantity: 1 }]);
    const foreign = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: other.lines[0]!.id, quantity: 1 }], 0),
    );
    expectProblem(foreign, 422, 'UNPROCESSABLE');
    expect(foreign.body.errors[0].path).toBe('lines.0.saleLineId');

    const twice = await postReturn(
      http,
      shop.manager,
      returnBody(
        sale,
        [
          { saleLineId: lineA.id, quantity: 1 },
          { saleLineId: lineA.id, quantity: 1 },
        ],
        1977,
      ),
    );
    expectProblem(twice, 422, 'UNPROCESSABLE');
    expect(twice.body.errors[0].path).toBe('lines.1.saleLineId');

    await http
      .post(`/sales/${other.id}/void`)
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'wrong till' })
      .expect(200);
    const voided = await postReturn(
      http,
      shop.manager,
      returnBody(other, [{ saleLineId: other.lines[0]!.id, quantity: 1 }], other.total),
    );
    expectProblem(voided, 422, 'UNPROCESSABLE');
    expect(voided.body.errors[0].path).toBe('saleId');
  });

  it('refuses a return dated more than 5 minutes in the future (422 occurredAt)', async () => {
    const { shop, sale, lineA } = await discountedSale();
    const future = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 988, {
        occurredAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    expectProblem(future, 422, 'UNPROCESSABLE');
    expect(future.body.errors[0].path).toBe('occurredAt');
  });

  it('a sale with returns cannot be voided', async () => {
    const { shop, sale, lineA } = await discountedSale();
    await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 988),
    ).expect(201);
    const refused = await http
      .post(`/sales/${sale.id}/void`)
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'oops' });
    expectProblem(refused, 422, 'UNPROCESSABLE');
    const still = await http.get(`/sales/${sale.id}`).set('Authorization', shop.owner.auth);
    expect(still.body.status).toBe('completed');
    expect(still.body.returnedTotal).toBe(988);
  });

  it('another business’s sale is 404; cashiers are refused (403); unauthenticated 401', async () => {
    const { shop, sale, lineA } = await discountedSale();
    const other = await createBusiness(deps);
    const body = returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 988);
    expectProblem(await postReturn(http, other.owner, body), 404, 'NOT_FOUND');
    expectProblem(await postReturn(http, shop.cashier, body), 403, 'FORBIDDEN');
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'post',
        path: '/returns',
        body: returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 988),
        allowed: ['owner', 'manager'],
        namesResource: false,
      },
    );
    expect(
      await deps.db.select().from(returns).where(eq(returns.businessId, other.id)),
    ).toHaveLength(0);
  });
});

describe('POST /returns: stock, location, shift and event', () => {
  it('restocks through return movements at the return’s location unless restock is false', async () => {
    const { shop, a, b, sale, lineA, lineB } = await discountedSale();
    expect((await stockOf(deps, a.id)).stockQuantity).toBe(93);
    const response = await postReturn(
      http,
      shop.owner,
      returnBody(
        sale,
        [
          { saleLineId: lineA.id, quantity: 2.5 },
          { saleLineId: lineB.id, quantity: 1, restock: false },
        ],
        2471 + 328,
      ),
    );
    expect(response.status).toBe(201);
    expect(response.body.lines.map((line: { restocked: boolean }) => line.restocked)).toEqual([
      true,
      false,
    ]);
    expect(await stockOf(deps, a.id)).toMatchObject({ stockQuantity: 95.5, ledger: 95.5 });
    expect(await stockOf(deps, b.id)).toMatchObject({ stockQuantity: 47, ledger: 47 });
    const movements = await deps.db
      .select()
      .from(stockMovements)
      .where(and(eq(stockMovements.businessId, shop.id), eq(stockMovements.type, 'return')));
    expect(movements).toHaveLength(1);
    expect(movements[0]).toMatchObject({
      productId: a.id,
      locationId: sale.locationId,
      delta: 2.5,
      saleId: sale.id,
    });
  });

  it('an untracked product is never restocked', async () => {
    const shop = await createBusiness(deps);
    const service = await insertProduct(deps, shop.id, shop.owner.id, {
      price: 500,
      trackStock: false,
      stockQuantity: 0,
    });
    const sale = await sell(http, shop.cashier, [{ product: service, quantity: 2 }]);
    const response = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: sale.lines[0]!.id, quantity: 1 }], 500),
    );
    expect(response.status).toBe(201);
    expect(response.body.lines[0].restocked).toBe(false);
    expect(await stockOf(deps, service.id)).toMatchObject({ stockQuantity: 0, ledger: 0 });
  });

  it('defaults to the sale’s location, takes another, refuses one outside the caller’s assignment', async () => {
    const shop = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const elsewhere = await openLocation(http, shop.owner);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 1000 });
    const sale = await sell(http, shop.owner, [{ product, quantity: 3 }], {
      locationId: branch.id,
    });
    const line = sale.lines[0]!;
    const byDefault = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000),
    );
    expect(byDefault.body.locationId).toBe(branch.id);

    await assign(http, shop.owner, shop.manager, [elsewhere.id]).expect(200);
    // The sale's location is outside the manager's assignment; the one named is inside.
    expectProblem(
      await postReturn(
        http,
        shop.manager,
        returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000),
      ),
      403,
      'FORBIDDEN',
    );
    const there = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000, { locationId: elsewhere.id }),
    );
    expect(there.status).toBe(201);
    expect(there.body.locationId).toBe(elsewhere.id);
    const levels = await deps.db
      .select()
      .from(stockMovements)
      .where(and(eq(stockMovements.productId, product.id), eq(stockMovements.type, 'return')));
    expect(levels.map((row) => row.locationId).sort()).toEqual([branch.id, elsewhere.id].sort());
    expect((await stockOf(deps, product.id)).ledger).toBe(99);

    const theirs = await createBusiness(deps);
    const foreign = await postReturn(
      http,
      shop.owner,
      returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], 1000, {
        locationId: (await openLocation(http, theirs.owner)).id,
      }),
    );
    expectProblem(foreign, 422, 'UNPROCESSABLE');
    expect(foreign.body.errors[0].path).toBe('locationId');
  });

  it('keeps any shiftId (no shift needed) and emits return.created with the Return resource', async () => {
    const { shop, sale, lineA } = await discountedSale();
    const shiftId = randomUUID();
    const response = await postReturn(
      http,
      shop.manager,
      returnBody(sale, [{ saleLineId: lineA.id, quantity: 1 }], 988, { shiftId }),
    );
    expect(response.status).toBe(201);
    expect(response.body.shiftId).toBe(shiftId);
    const events = await outboxRowsOf(deps, shop.id, { types: ['return.created'] });
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toEqual(response.body);
    const read = await http
      .get(`/returns/${response.body.id}`)
      .set('Authorization', shop.owner.auth);
    expect(read.body).toEqual(response.body);
  });
});
