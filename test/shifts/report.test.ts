import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problem.js';
import { insertProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';
import {
  cashMovementBody,
  closeBody,
  closeShift,
  moveCash,
  openShift,
  shiftBody,
  shiftReport,
} from '../helpers/shifts.js';

const { http, deps } = createTestApp();

/** round(a / b) for non-negative integers, half away from zero, without floating point. */
const roundDiv = (a: number, b: number) => Math.floor((2 * a + b) / (2 * b));

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

interface SentSale {
  body: Record<string, unknown>;
  total: number;
  subtotal: number;
  discount: number;
  change: number;
  cashTendered: number;
  tendered: Record<string, number>;
  lines: { rate: number; net: number; tax: number }[];
}

/**
 * A sale as the till sends it, with what it must come to, worked out here from the body
 * alone: 1–3 lines of whole quantities, sometimes a line discount, a sale discount only on
 * one-line sales (so the whole discount is that line's share), and payments of every
 * kind — cash with change, M-Pesa, card, or M-Pesa plus cash with change.
 */
function makeSale(next: (below: number) => number, products: TestProduct[], index: number) {
  const count = 1 + next(3);
  const lines = Array.from({ length: count }, () => {
    const product = products[next(products.length)]!;
    const quantity = 1 + next(3);
    const gross = quantity * product.price;
    const discount = next(4) === 0 ? next(gross / 10) : 0;
    return { product, quantity, discount, total: gross - discount };
  });
  const subtotal = lines.reduce((sum, line) => sum + line.total, 0);
  const discount = count === 1 && next(3) === 0 ? next(subtotal / 5) : 0;
  const total = subtotal - discount;
  const tendered: Record<string, number> = { cash: 0, mpesa: 0, card: 0 };
  let payments: { method: string; amount: number }[];
  switch (index % 4) {
    case 0: {
      const cash = Math.ceil((total + 1) / 10_000) * 10_000;
      payments = [{ method: 'cash', amount: cash }];
      break;
    }
    case 1:
      payments = [{ method: 'mpesa', amount: total }];
      break;
    case 2:
      payments = [{ method: 'card', amount: total }];
      break;
    default: {
      const mpesa = Math.floor(total / 2);
      payments = [
        { method: 'mpesa', amount: mpesa },
        { method: 'cash', amount: total - mpesa + 5_000 },
      ];
    }
  }
  for (const payment of payments) tendered[payment.method]! += payment.amount;
  const change = tendered.cash! - (total - tendered.mpesa! - tendered.card!);
  const sent: SentSale = {
    body: {
      clientRequestId: randomUUID(),
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      lines: lines.map((line) => ({
        productId: line.product.id,
        quantity: line.quantity,
        ...(line.discount ? { discount: line.discount } : {}),
      })),
      ...(discount ? { discount } : {}),
      payments,
      total,
    },
    total,
    subtotal,
    discount,
    change,
    cashTendered: tendered.cash!,
    tendered,
    lines: lines.map((line) => {
      const net = line.total - (count === 1 ? discount : 0);
      const rate = line.product.taxRate;
      return { rate, net, tax: roundDiv(net * rate, 10_000 + rate) };
    }),
  };
  return sent;
}

/** The report's figures, computed from what was sent (never from what the server stored). */
function expectedFigures(
  sent: SentSale[],
  voided: Set<SentSale>,
  numbers: number[],
  openingFloat: number,
  movements: { type: string; amount: number }[],
) {
  const completed = sent.filter((sale) => !voided.has(sale));
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const cashNet = sum(completed.map((sale) => sale.cashTendered - sale.change));
  const payIns = sum(movements.filter((m) => m.type === 'pay_in').map((m) => m.amount));
  const payOuts = sum(movements.filter((m) => m.type === 'pay_out').map((m) => m.amount));
  const rates = new Map<number, { taxable: number; tax: number }>();
  for (const line of completed.flatMap((sale) => sale.lines)) {
    const entry = rates.get(line.rate) ?? { taxable: 0, tax: 0 };
    entry.taxable += line.net;
    entry.tax += line.tax;
    rates.set(line.rate, entry);
  }
  const gross = sum(completed.map((sale) => sale.subtotal));
  const discount = sum(completed.map((sale) => sale.discount));
  return {
    sales: {
      count: completed.length,
      gross,
      discount,
      tax: sum(completed.flatMap((sale) => sale.lines.map((line) => line.tax))),
      net: gross - discount,
    },
    byPaymentMethod: [
      { method: 'cash', amount: cashNet },
      { method: 'mpesa', amount: sum(completed.map((sale) => sale.tendered.mpesa!)) },
      { method: 'card', amount: sum(completed.map((sale) => sale.tendered.card!)) },
      { method: 'other', amount: 0 },
      { method: 'credit', amount: 0 },
    ],
    returns: { count: 0, total: 0 },
    refundsByMethod: [],
    voids: { count: voided.size, total: sum([...voided].map((sale) => sale.total)) },
    cashMovements: { count: movements.length, payIns, payOuts },
    taxByRate: [...rates].sort(([a], [b]) => a - b).map(([rate, entry]) => ({ rate, ...entry })),
    firstSaleNumber: Math.min(...numbers),
    lastSaleNumber: Math.max(...numbers),
    expectedCash: openingFloat + cashNet + payIns - payOuts,
    lateSales: 0,
    lateCash: 0,
  };
}

async function sync(shop: TestBusiness, bodies: Record<string, unknown>[]) {
  const response = await http
    .post('/sales/sync')
    .set('Authorization', shop.cashier.auth)
    .send({ sales: bodies });
  expect(response.status, response.text).toBe(200);
  const results = response.body.results as {
    status: string;
    sale: { id: string; number: number };
  }[];
  expect(results.map((result) => result.status)).toEqual(bodies.map(() => 'created'));
  return results.map((result) => result.sale);
}

const sell = (shop: TestBusiness, body: Record<string, unknown>) =>
  http.post('/sales').set('Authorization', shop.cashier.auth).send(body);

describe('the X and Z reports', () => {
  it('a shift of 200 mixed sales, voids, pay-ins and pay-outs: the reports match a computation from what was sent', async () => {
    const shop = await createBusiness(deps);
    const products = await Promise.all(
      [
        { price: 11_600, taxRate: 1600 },
        { price: 5_000, taxRate: 0 },
        { price: 2_700, taxRate: 800 },
        { price: 34_950, taxRate: 1600 },
      ].map((overrides) =>
        insertProduct(deps, shop.id, shop.owner.id, { ...overrides, trackStock: false }),
      ),
    );
    const shift = shiftBody({ openingFloat: 250_000 });
    const shiftId = shift.id as string;
    await openShift(http, shop.cashier, shift).expect(201);

    const next = random(20261206);
    const sent = Array.from({ length: 200 }, (_, index) => makeSale(next, products, index));
    for (const sale of sent) sale.body.shiftId = shiftId;
    const stored = [
      ...(await sync(
        shop,
        sent.slice(0, 100).map((sale) => sale.body),
      )),
      ...(await sync(
        shop,
        sent.slice(100).map((sale) => sale.body),
      )),
    ];
    // Sales outside the shift: none of them may count.
    const outside = Array.from({ length: 8 }, (_, index) => makeSale(next, products, index));
    outside.forEach((sale, index) => {
      if (index % 2) sale.body.shiftId = randomUUID();
    });
    await sync(
      shop,
      outside.map((sale) => sale.body),
    );

    const voided = new Set<SentSale>();
    for (const index of [0, 3, 17, 42, 99, 100, 150, 199]) {
      await http
        .post(`/sales/${stored[index]!.id}/void`)
        .set('Authorization', shop.manager.auth)
        .send({ reason: 'rung up twice' })
        .expect(200);
      voided.add(sent[index]!);
    }
    const movements = [
      { type: 'pay_in', amount: 100_000 },
      { type: 'pay_out', amount: 35_000 },
      { type: 'pay_out', amount: 12_550 },
      { type: 'pay_in', amount: 1 },
      { type: 'pay_out', amount: 80_000 },
    ];
    for (const movement of movements)
      await moveCash(http, shop.cashier, shiftId, cashMovementBody(movement)).expect(201);

    const expected = expectedFigures(
      sent,
      voided,
      stored.map((sale) => sale.number),
      250_000,
      movements,
    );
    const x = await shiftReport(http, shop.cashier, shiftId).expect(200);
    expect(x.body).toEqual({ shift: expect.objectContaining({ status: 'open' }), ...expected });

    const counted = expected.expectedCash - 700;
    const closed = await closeShift(http, shop.cashier, shiftId, closeBody(counted)).expect(200);
    expect(closed.body).toMatchObject({
      expectedCash: expected.expectedCash,
      countedCash: counted,
      difference: -700,
    });
    const z = await shiftReport(http, shop.manager, shiftId).expect(200);
    expect(z.body).toEqual({
      shift: closed.body,
      ...expected,
      countedCash: counted,
      difference: -700,
    });
  });

  it('a sale naming a shift that has not arrived yet joins it when it does', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 4_000 });
    const shift = shiftBody({ openingFloat: 10_000 });
    const early = await sell(
      shop,
      saleBody([{ product }], {
        shiftId: shift.id,
        payments: [{ method: 'cash', amount: 5_000 }],
      }),
    );
    expect(early.status, early.text).toBe(201);
    expect(early.body).toMatchObject({ shiftId: shift.id, change: 1_000 });

    await openShift(http, shop.cashier, shift).expect(201);
    const report = await shiftReport(http, shop.cashier, shift.id as string).expect(200);
    expect(report.body).toMatchObject({
      sales: { count: 1, gross: 4_000, discount: 0, net: 4_000 },
      expectedCash: 14_000,
      firstSaleNumber: early.body.number,
      lastSaleNumber: early.body.number,
    });
  });

  it('a sale accepted after the close is late: counted apart, the closed figures do not move; nor does a later void', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 3_000 });
    const shift = shiftBody({ openingFloat: 20_000 });
    const shiftId = shift.id as string;
    await openShift(http, shop.cashier, shift).expect(201);
    const onTime = await sell(shop, saleBody([{ product }], { shiftId })).expect(201);
    const closed = await closeShift(http, shop.cashier, shiftId, closeBody(23_000)).expect(200);
    expect(closed.body).toMatchObject({ expectedCash: 23_000, difference: 0 });
    const before = (await shiftReport(http, shop.cashier, shiftId).expect(200)).body;
    expect(before).toMatchObject({ sales: { count: 1 }, lateSales: 0, lateCash: 0 });

    // Rung up before the close on a till that was offline; it reaches the server after.
    const late = await sell(
      shop,
      saleBody([{ product, quantity: 2 }], {
        shiftId,
        occurredAt: new Date(Date.parse(closed.body.closedAt as string) - 60_000).toISOString(),
        payments: [{ method: 'cash', amount: 10_000 }],
      }),
    );
    expect(late.status, late.text).toBe(201);
    // The sale that counted is voided after the close: the Z report keeps it.
    await http
      .post(`/sales/${onTime.body.id as string}/void`)
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'after hours' })
      .expect(200);

    const after = (await shiftReport(http, shop.cashier, shiftId).expect(200)).body;
    expect(after).toEqual({ ...before, lateSales: 1, lateCash: 6_000 });
    const read = await http.get(`/shifts/${shiftId}`).set('Authorization', shop.cashier.auth);
    expect(read.body).toEqual(closed.body);
  });

  it('a sale naming another business’s shift is accepted but never joins it, and nothing of it leaks', async () => {
    const a = await createBusiness(deps);
    const b = await createBusiness(deps);
    const productA = await insertProduct(deps, a.id, a.owner.id);
    const shift = shiftBody();
    const shiftId = shift.id as string;
    await openShift(http, b.cashier, shift).expect(201);
    const before = (await shiftReport(http, b.cashier, shiftId).expect(200)).body;

    const sale = await sell(a, saleBody([{ product: productA }], { shiftId }));
    expect(sale.status, sale.text).toBe(201);
    expect(sale.body.shiftId).toBe(shiftId);
    expect(JSON.stringify(sale.body)).not.toContain(b.id);
    expect((await shiftReport(http, b.cashier, shiftId).expect(200)).body).toEqual(before);
    expectProblem(await shiftReport(http, a.owner, shiftId), 404, 'NOT_FOUND');

    // The id is the till's: A may open its own shift under it, and only A's sale joins that.
    await openShift(http, a.cashier, shift).expect(201);
    const own = await shiftReport(http, a.cashier, shiftId).expect(200);
    expect(own.body.sales.count).toBe(1);
    expect((await shiftReport(http, b.cashier, shiftId).expect(200)).body).toEqual(before);
  });

  it('an open shift’s X report has no counted cash or difference; a closed shift’s Z report has both', async () => {
    const shop = await createBusiness(deps);
    const shift = shiftBody({ openingFloat: 7_000 });
    await openShift(http, shop.cashier, shift).expect(201);
    const x = await shiftReport(http, shop.cashier, shift.id as string).expect(200);
    expect(x.body).not.toHaveProperty('countedCash');
    expect(x.body).not.toHaveProperty('difference');
    expect(x.body).toMatchObject({
      sales: { count: 0, gross: 0, discount: 0, tax: 0, net: 0 },
      firstSaleNumber: null,
      lastSaleNumber: null,
      expectedCash: 7_000,
      taxByRate: [],
    });
    await closeShift(http, shop.cashier, shift.id as string, closeBody(7_500)).expect(200);
    const z = await shiftReport(http, shop.cashier, shift.id as string).expect(200);
    expect(z.body).toMatchObject({ expectedCash: 7_000, countedCash: 7_500, difference: 500 });
  });
});

describe('sales racing the close', () => {
  it('every sale is either in the closed figures or late, never both, never neither', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, {
      price: 1_000,
      trackStock: false,
    });
    const shift = shiftBody({ openingFloat: 0 });
    const shiftId = shift.id as string;
    await openShift(http, shop.cashier, shift).expect(201);
    const bodies = Array.from({ length: 24 }, () =>
      saleBody([{ product }], { shiftId, payments: [{ method: 'cash', amount: 1_500 }] }),
    );
    const [closed, ...sold] = await Promise.all([
      closeShift(http, shop.cashier, shiftId, closeBody(0)),
      ...bodies.map((body) => sell(shop, body)),
    ]);
    expect(closed.status, closed.text).toBe(200);
    expect(sold.map((response) => response.status)).toEqual(bodies.map(() => 201));

    const z = (await shiftReport(http, shop.cashier, shiftId).expect(200)).body as {
      sales: { count: number };
      lateSales: number;
      lateCash: number;
      expectedCash: number;
    };
    expect(z.sales.count + z.lateSales).toBe(24);
    // Each sale put 1,000 in the drawer (1,500 tendered, 500 change).
    expect(z.expectedCash).toBe(z.sales.count * 1_000);
    expect(closed.body.expectedCash).toBe(z.sales.count * 1_000);
    expect(z.lateCash).toBe(z.lateSales * 1_000);
  });
});
