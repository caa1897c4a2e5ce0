import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { creditSaleBody, paymentBody, postCustomer } from '../helpers/customers.js';
import { postReturn, returnBody } from '../helpers/returns.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { closeBody, closeShift, openShift, shiftBody, shiftReport } from '../helpers/shifts.js';

/*
 * The shift's cash drawer takes cash from more than sales: payments on customer accounts
 * (and, with returns, refunds paid out). Each source is counted once, by the shift it names,
 * and what arrives after the close is late, never moving the closed figures.
 */

const { http, deps } = createTestApp();

interface Report {
  byPaymentMethod: { method: string; amount: number }[];
  expectedCash: number;
  lateCash: number;
  lateSales: number;
}

describe('shift expected cash: customer accounts', () => {
  it('adds cash paid on customer accounts with this shift, not M-Pesa, not other shifts; late after the close', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 10_000 });
    const customer = await postCustomer(http, shop.cashier);
    const shift = shiftBody({ openingFloat: 50_000 });
    await openShift(http, shop.cashier, shift).expect(201);
    const shiftId = shift.id as string;

    // On credit: 3 × 100.00 owed, nothing in the drawer.
    await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 3, { shiftId }))
      .expect(201);
    // A cash sale of 100.00 paid with 150.00 (50.00 change).
    await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(saleBody([{ product }], { shiftId, payments: [{ method: 'cash', amount: 15_000 }] }))
      .expect(201);
    const pay = (amount: number, overrides: Record<string, unknown>) =>
      http
        .post(`/customers/${customer.id}/payments`)
        .set('Authorization', shop.cashier.auth)
        .send(paymentBody(amount, overrides));
    await pay(12_000, { shiftId }).expect(201); // cash into this drawer
    await pay(5_000, { shiftId, method: 'mpesa', reference: 'SKL0AB12CD' }).expect(201);
    await pay(3_000, {}).expect(201); // cash taken with no shift named

    const open = (await shiftReport(http, shop.cashier, shiftId).expect(200)).body as Report;
    expect(open.expectedCash).toBe(50_000 + 10_000 + 12_000);
    expect(open.byPaymentMethod).toContainEqual({ method: 'credit', amount: 30_000 });
    expect(open.byPaymentMethod).toContainEqual({ method: 'cash', amount: 10_000 });

    await closeShift(http, shop.cashier, shiftId, closeBody(72_000)).expect(200);
    await pay(4_000, { shiftId }).expect(201); // after the close: late
    const closed = (await shiftReport(http, shop.cashier, shiftId).expect(200)).body as Report;
    expect(closed.expectedCash).toBe(72_000);
    expect(closed.lateCash).toBe(4_000);
    expect(closed.lateSales).toBe(0);
  });
});

describe('shift expected cash: returns', () => {
  it('takes cash refunds of returns naming the shift out of the drawer; a late return is late cash', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 10_000 });
    const customer = await postCustomer(http, shop.cashier);
    const shift = shiftBody({ openingFloat: 50_000 });
    await openShift(http, shop.cashier, shift).expect(201);
    const shiftId = shift.id as string;
    const sell = async (body: Record<string, unknown>) =>
      (await http.post('/sales').set('Authorization', shop.cashier.auth).send(body).expect(201))
        .body as { id: string; lines: { id: string }[] };
    const cashSale = await sell(saleBody([{ product, quantity: 3 }], { shiftId }));
    const creditSale = await sell(creditSaleBody(product, customer.id, 2, { shiftId }));
    const giveBack = (
      sale: { id: string; lines: { id: string }[] },
      quantity: number,
      method: string,
    ) =>
      postReturn(
        http,
        shop.manager,
        returnBody(sale, [{ saleLineId: sale.lines[0]!.id, quantity }], 0, {
          shiftId,
          refunds: [{ method, amount: quantity * 10_000 }],
        }),
      ).expect(201);
    await giveBack(cashSale, 1, 'cash');
    await giveBack(creditSale, 1, 'credit');

    const open = (await shiftReport(http, shop.cashier, shiftId).expect(200)).body as Report & {
      returns: { count: number; total: number };
      refundsByMethod: { method: string; amount: number }[];
    };
    expect(open.returns).toEqual({ count: 2, total: 20_000 });
    expect(open.refundsByMethod).toEqual([
      { method: 'cash', amount: 10_000 },
      { method: 'credit', amount: 10_000 },
    ]);
    // Float + 300.00 cash sold − 100.00 handed back; the credit refund never left the drawer.
    expect(open.expectedCash).toBe(50_000 + 30_000 - 10_000);

    await closeShift(http, shop.cashier, shiftId, closeBody(70_000)).expect(200);
    await giveBack(cashSale, 1, 'cash'); // after the close
    const closed = (await shiftReport(http, shop.cashier, shiftId).expect(200)).body as Report & {
      returns: { count: number };
    };
    expect(closed.expectedCash).toBe(70_000);
    expect(closed.returns.count).toBe(2);
    expect(closed.lateCash).toBe(-10_000);
  });
});
