import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { customerPayments, sales } from '../../src/db/schema/index.js';
import { writeCustomerEntry } from '../../src/modules/customers/customer-ledger.js';
import { createTestApp } from '../helpers/app.js';
import {
  creditSaleBody,
  expectLedgerExact,
  ledgerOf,
  paymentBody,
  postCustomer,
} from '../helpers/customers.js';
import { createBusiness } from '../helpers/factories.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { countSaleRows, insertProduct, saleBody } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

async function shopWithCustomer(customer: Record<string, unknown> = {}) {
  const shop = await createBusiness(deps);
  const product = await insertProduct(deps, shop.id, shop.owner.id, {
    price: 10_000,
    stockQuantity: 1000,
  });
  const created = await postCustomer(http, shop.manager, customer);
  return { shop, product, customer: created };
}

describe('credit sales', () => {
  it('puts the credit part on the account; the sale names its customer', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    const body = saleBody([{ product, quantity: 3 }], {
      customerId: customer.id.toUpperCase(),
      payments: [
        { method: 'cash', amount: 5_000 },
        { method: 'credit', amount: 25_000 },
      ],
    });
    const response = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
    expect(response.status, response.text).toBe(201);
    expect(response.body.customerId).toBe(customer.id);
    expect(response.body.payments).toContainEqual({
      method: 'credit',
      amount: 25_000,
      reference: null,
    });
    // A replay (upper-case id again) writes nothing more.
    const replay = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
    expect(replay.status).toBe(200);
    const { entries } = await ledgerOf(deps, customer.id);
    expect(entries).toMatchObject([
      { type: 'sale', amount: 25_000, balanceAfter: 25_000, saleId: response.body.id, position: 1 },
    ]);
    expect(await expectLedgerExact(deps, customer.id)).toBe(25_000);
    const read = await http
      .get(`/customers/${customer.id}`)
      .set('Authorization', shop.cashier.auth);
    expect(read.body.balance).toBe(25_000);
    const sold = await http
      .get(`/sales/${response.body.id}`)
      .set('Authorization', shop.cashier.auth);
    expect(sold.body.customerId).toBe(customer.id);
  });

  it('refuses credit without a customer, and an unknown or foreign customer (422, nothing written)', async () => {
    const { shop, product } = await shopWithCustomer();
    const other = await createBusiness(deps);
    const foreign = await postCustomer(http, other.owner);
    const before = await countSaleRows(deps, shop.id);
    const noCustomer = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(saleBody([{ product }], { payments: [{ method: 'credit', amount: 10_000 }] }));
    expect(noCustomer.status).toBe(422);
    expect(noCustomer.body.errors[0].path).toBe('customerId');
    for (const customerId of [randomUUID(), foreign.id]) {
      const unknown = await http
        .post('/sales')
        .set('Authorization', shop.cashier.auth)
        .send(creditSaleBody(product, customerId));
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors[0]).toMatchObject({ path: 'customerId', code: 'not_found' });
    }
    expect(await countSaleRows(deps, shop.id)).toEqual(before);
    expect(await expectLedgerExact(deps, foreign.id)).toBe(0);
  });

  it('over the credit limit the sale is still recorded and customer.credit_limit_exceeded is emitted', async () => {
    const { shop, product, customer } = await shopWithCustomer({ creditLimit: 15_000 });
    const within = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 1));
    expect(within.status).toBe(201);
    expect(
      await outboxRowsOf(deps, shop.id, { types: ['customer.credit_limit_exceeded'] }),
    ).toEqual([]);
    const over = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 1));
    expect(over.status, over.text).toBe(201);
    const events = await outboxRowsOf(deps, shop.id, { types: ['customer.credit_limit_exceeded'] });
    expect(events.map((row) => row.payload)).toEqual([
      {
        customerId: customer.id,
        saleId: over.body.id,
        amount: 10_000,
        balance: 20_000,
        creditLimit: 15_000,
      },
    ]);
    expect(await expectLedgerExact(deps, customer.id)).toBe(20_000);
  });

  it('a batch (sync) with several credit sales of one customer keeps the running balance', async () => {
    const { shop, product, customer } = await shopWithCustomer({ creditLimit: 25_000 });
    const bodies = [1, 2, 3].map((quantity) => creditSaleBody(product, customer.id, quantity));
    const response = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales: bodies });
    expect(response.status).toBe(200);
    expect(response.body.results.map((r: { status: string }) => r.status)).toEqual([
      'created',
      'created',
      'created',
    ]);
    const { entries } = await ledgerOf(deps, customer.id);
    expect(entries.map((entry) => [entry.amount, entry.balanceAfter])).toEqual([
      [10_000, 10_000],
      [20_000, 30_000],
      [30_000, 60_000],
    ]);
    expect(await expectLedgerExact(deps, customer.id)).toBe(60_000);
    // The 2nd and 3rd left the account over 25,000.
    const events = await outboxRowsOf(deps, shop.id, { types: ['customer.credit_limit_exceeded'] });
    expect(events.map((row) => (row.payload as { balance: number }).balance).sort()).toEqual([
      30_000, 60_000,
    ]);
  });

  it('a void gives the credit back with a void entry (once)', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    const sale = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 2));
    for (let i = 0; i < 2; i++) {
      const voided = await http
        .post(`/sales/${sale.body.id}/void`)
        .set('Authorization', shop.manager.auth)
        .send({ reason: 'wrong customer' });
      expect(voided.status).toBe(200);
    }
    const { entries } = await ledgerOf(deps, customer.id);
    expect(entries.map((entry) => [entry.type, entry.amount, entry.balanceAfter])).toEqual([
      ['sale', 20_000, 20_000],
      ['void', -20_000, 0],
    ]);
    expect(await expectLedgerExact(deps, customer.id)).toBe(0);
  });

  it('writeCustomerEntry (for credit refunds at merge) appends a return entry', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    const sale = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 3));
    const returnId = randomUUID();
    const entry = await deps.db.transaction((tx) =>
      writeCustomerEntry(tx, {
        businessId: shop.id,
        customerId: customer.id,
        type: 'return',
        money: 10_000,
        saleId: sale.body.id,
        returnId,
        createdBy: shop.manager.id,
      }),
    );
    expect(entry).toMatchObject({ amount: -10_000, balanceAfter: 20_000, position: 2 });
    // Another business's customer: nothing.
    const other = await createBusiness(deps);
    expect(
      await writeCustomerEntry(deps.db, {
        ...{ businessId: other.id, customerId: customer.id },
        type: 'return',
        money: 1,
        createdBy: shop.owner.id,
      }),
    ).toBeNull();
    // A void after a partial credit refund gives back only what is still on the account.
    await http
      .post(`/sales/${sale.body.id}/void`)
      .set('Authorization', shop.owner.auth)
      .send({ reason: 'x' });
    expect(await expectLedgerExact(deps, customer.id)).toBe(0);
    const statement = await http
      .get(`/customers/${customer.id}/statement`)
      .set('Authorization', shop.cashier.auth);
    expect(statement.body.data.map((e: { type: string }) => e.type)).toEqual([
      'sale',
      'return',
      'void',
    ]);
    expect(statement.body.data[1]).toMatchObject({ returnId, saleId: sale.body.id });
  });
});

describe('POST /customers/:id/payments', () => {
  it('records once per clientRequestId; replay 200, reuse 422; overpayment 422; event emitted', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 3));
    const shiftId = randomUUID();
    const body = paymentBody(12_000, { method: 'mpesa', reference: 'QK12ABCDEF', shiftId });
    const first = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.cashier.auth)
      .send(body);
    expect(first.status, first.text).toBe(201);
    expect(first.body).toMatchObject({
      amount: 12_000,
      method: 'mpesa',
      balanceAfter: 18_000,
      shiftId,
    });
    const replay = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.cashier.auth)
      .send(body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    const reuse = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.cashier.auth)
      .send({ ...body, amount: 1_000 });
    expect(reuse.status).toBe(422);
    expect(reuse.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const over = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.cashier.auth)
      .send(paymentBody(18_001));
    expect(over.status).toBe(422);
    expect(over.body.errors[0].path).toBe('amount');
    const exact = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.cashier.auth)
      .send(paymentBody(18_000));
    expect(exact.status).toBe(201);
    expect(await expectLedgerExact(deps, customer.id)).toBe(0);
    const events = await outboxRowsOf(deps, shop.id, { types: ['customer.payment_received'] });
    expect(events.map((row) => (row.payload as { amount: number }).amount)).toEqual([
      12_000, 18_000,
    ]);
    const rows = await deps.db
      .select()
      .from(customerPayments)
      .where(eq(customerPayments.customerId, customer.id));
    expect(rows.map((row) => [row.method, row.amount, row.shiftId])).toEqual([
      ['mpesa', 12_000, shiftId],
      ['cash', 18_000, null],
    ]);
  });

  it('refuses bad input: zero, a method of credit, unknown fields', async () => {
    const { shop, customer } = await shopWithCustomer();
    for (const body of [
      paymentBody(0),
      paymentBody(100, { method: 'credit' }),
      paymentBody(100, { balanceAfter: 5 }),
      paymentBody(100, { occurredAt: 'yesterday' }),
    ]) {
      const response = await http
        .post(`/customers/${customer.id}/payments`)
        .set('Authorization', shop.cashier.auth)
        .send(body);
      expect(response.status).toBe(400);
    }
  });

  it('credit sales and payments racing on one customer leave the balance exact', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    // Something to pay against first.
    await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 10));
    const users = [shop.cashier, shop.cashier2, shop.manager, shop.owner];
    const requests = Array.from({ length: 24 }, (_, index) => {
      const user = users[index % users.length]!;
      return index % 2 === 0
        ? http
            .post('/sales')
            .set('Authorization', user.auth)
            .send(creditSaleBody(product, customer.id, 1))
        : http
            .post(`/customers/${customer.id}/payments`)
            .set('Authorization', user.auth)
            .send(paymentBody(3_000));
    });
    const responses = await Promise.all(requests);
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 201));
    const balance = await expectLedgerExact(deps, customer.id);
    // 10 + 12 sales of 10,000; 12 payments of 3,000.
    expect(balance).toBe(100_000 + 12 * 10_000 - 12 * 3_000);
    const { entries } = await ledgerOf(deps, customer.id);
    expect(entries).toHaveLength(25);
  });

  it('payments racing for more than the balance: only what was owed is taken', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 1));
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        http
          .post(`/customers/${customer.id}/payments`)
          .set('Authorization', shop.cashier.auth)
          .send(paymentBody(4_000)),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(2);
    expect(responses.filter((r) => r.status === 422)).toHaveLength(4);
    expect(await expectLedgerExact(deps, customer.id)).toBe(2_000);
  });

  it('the same clientRequestId sent 5× at once is recorded once', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 1));
    const body = paymentBody(1_000);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        http
          .post(`/customers/${customer.id}/payments`)
          .set('Authorization', shop.cashier.auth)
          .send(body),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(await expectLedgerExact(deps, customer.id)).toBe(9_000);
  });
});

describe('GET /customers/:id/statement', () => {
  it('lists entries in order with running balances, pages and filters by time', async () => {
    const { shop, product, customer } = await shopWithCustomer();
    const sale = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 5));
    const payment = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.cashier.auth)
      .send(paymentBody(20_000));
    await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 1));
    const all = await http
      .get(`/customers/${customer.id}/statement`)
      .set('Authorization', shop.cashier.auth);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      customerId: customer.id,
      balance: 40_000,
      openingBalance: 0,
      nextCursor: null,
    });
    expect(
      all.body.data.map((e: { type: string; amount: number; balanceAfter: number }) => [
        e.type,
        e.amount,
        e.balanceAfter,
      ]),
    ).toEqual([
      ['sale', 50_000, 50_000],
      ['payment', -20_000, 30_000],
      ['sale', 10_000, 40_000],
    ]);
    expect(all.body.data[0].saleId).toBe(sale.body.id);
    expect(all.body.data[1].paymentId).toBe(payment.body.id);
    const sum = all.body.data.reduce((total: number, e: { amount: number }) => total + e.amount, 0);
    expect(sum).toBe(all.body.balance);

    const page1 = await http
      .get(`/customers/${customer.id}/statement?limit=2`)
      .set('Authorization', shop.cashier.auth);
    expect(page1.body.data).toHaveLength(2);
    const page2 = await http
      .get(`/customers/${customer.id}/statement?limit=2&cursor=${page1.body.nextCursor}`)
      .set('Authorization', shop.cashier.auth);
    expect(page2.body).toMatchObject({ openingBalance: 30_000, nextCursor: null });
    expect(page2.body.data).toHaveLength(1);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await http
      .get(`/customers/${customer.id}/statement?from=${encodeURIComponent(future)}`)
      .set('Authorization', shop.cashier.auth);
    expect(none.body.data).toEqual([]);
    const bad = await http
      .get(`/customers/${customer.id}/statement?cursor=nonsense`)
      .set('Authorization', shop.cashier.auth);
    expect(bad.status).toBe(400);
    const [row] = await deps.db.select().from(sales).where(eq(sales.id, sale.body.id));
    expect(row?.customerId).toBe(customer.id);
  });
});
