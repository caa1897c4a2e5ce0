import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { c2bPayments, customerPayments, salePayments } from '../../src/db/schema/index.js';
import { smsQueue } from '../../src/modules/sms/sms.job.js';
import { applyC2bConfirmation } from '../../src/modules/till/till.job.js';
import { startSmsSimulator } from '../../src/sms/simulator/simulator.js';
import {
  creditSaleBody,
  expectLedgerExact,
  paymentBody,
  postCustomer,
} from '../helpers/customers.js';
import type { TestBusiness } from '../helpers/factories.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually, useJobs } from '../helpers/jobs.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { newTillApp, startPaymentsHarness } from '../helpers/payments.js';
import { insertProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';

// A payment on account by M-Pesa (POST /customers/{id}/payments, method mpesa, reference =
// TransID) claims the till receipt like a sale payment does, under the same lock. The Daraja
// simulator pays the till over HTTP; the SMS worker really sends the reminder to the Africa's
// Talking simulator.
const sms = await startSmsSimulator({
  apiKey: 'test-at-key',
  senderIds: ['DUKA'],
  deliveryDelayMs: 300,
});
const smsEnv = {
  AT_USERNAME: 'sandbox',
  AT_API_KEY: 'test-at-key',
  AT_SENDER_ID: 'DUKA',
  AT_BASE_URL: sms.url,
  AT_DELIVERY_REPORT_TOKEN: randomBytes(24).toString('hex'),
};
const { http, deps, simulator, configureTill } = await startPaymentsHarness({
  simulator: { c2bValidationTimeoutMs: 2_000 },
  env: smsEnv,
});
const jobs = useJobs({ env: smsEnv, workers: [smsQueue] });
afterAll(async () => {
  await sms.close();
});

interface Shop {
  business: TestBusiness;
  shortcode: string;
  product: TestProduct;
  confirmationPath: string;
}

/** A business with its own Daraja app and registered C2B URLs, and a KSh 1,000 product. */
async function shopWithTill(): Promise<Shop> {
  const business = await createBusiness(deps);
  jobs.businessIds.add(business.id);
  const app = newTillApp(simulator, 'till');
  expect((await configureTill(business, app)).status).toBe(200);
  const registered = await http
    .post('/business/mpesa/register-c2b')
    .set('Authorization', business.owner.auth);
  expect(registered.status).toBe(200);
  const product = await insertProduct(deps, business.id, business.owner.id, { price: 100_000 });
  return {
    business,
    shortcode: app.shortcode,
    product,
    confirmationPath: new URL(registered.body.c2bConfirmationUrl as string).pathname,
  };
}

/** Applies every stored confirmation of the business: the worker's till job. */
async function applyAll(businessId: string): Promise<string[]> {
  const rows = await outboxRowsOf(deps, businessId, { types: ['till:apply-c2b'] });
  const outcomes: string[] = [];
  for (const row of rows) {
    outcomes.push(await applyC2bConfirmation(deps, (row.payload as { inboxId: string }).inboxId));
  }
  return outcomes;
}

async function receiptOf(businessId: string, transId: string) {
  const [row] = await deps.db
    .select()
    .from(c2bPayments)
    .where(and(eq(c2bPayments.businessId, businessId), eq(c2bPayments.transId, transId)));
  return row;
}

/** A customer owing KSh 1,000 (one credit sale). */
async function debtor(shop: Shop, body: Record<string, unknown> = {}) {
  const customer = await postCustomer(http, shop.business.cashier, body);
  const sale = await http
    .post('/sales')
    .set('Authorization', shop.business.cashier.auth)
    .send(creditSaleBody(shop.product, customer.id, 1));
  expect(sale.status, sale.text).toBe(201);
  return { customer, sale: sale.body as { id: string } };
}

/** The customer pays the till from their phone (Daraja simulator, C2B simulate). */
async function payTill(shop: Shop, shillings: number) {
  const paid = await simulator.payC2b({
    shortcode: shop.shortcode,
    commandId: 'CustomerBuyGoodsOnline',
    amount: shillings,
    msisdn: '254712345126',
  });
  expect(paid).toMatchObject({ validation: 'accepted', confirmation: 'delivered' });
  expect(await applyAll(shop.business.id)).toContain('applied');
  return paid.transId;
}

const payOnAccount = (shop: Shop, customerId: string, amount: number, transId: string) =>
  http
    .post(`/customers/${customerId}/payments`)
    .set('Authorization', shop.business.cashier.auth)
    .send(paymentBody(amount, { method: 'mpesa', reference: transId }));

const listTill = (shop: Shop, query = '') =>
  http.get(`/bv-payments/c2b${query}`).set('Authorization', shop.business.cashier.auth);

let receipts = 0;
const newTransId = () => `TA${String(Date.now()).slice(-6)}${String(++receipts).padStart(4, '0')}`;

describe('a payment on account by M-Pesa claims the till receipt', () => {
  it('credit sale, partial till payment claimed from the unclaimed list, cash, statement, SMS reminder', async () => {
    const shop = await shopWithTill();
    const { customer, sale } = await debtor(shop, { name: 'Mama Akinyi', phone: '0712 345 126' });

    const transId = await payTill(shop, 400);
    const unclaimed = await listTill(shop, '?status=unclaimed');
    expect(unclaimed.body.data).toEqual([
      expect.objectContaining({ transId, amount: 40_000, status: 'unclaimed' }),
    ]);

    const mpesa = await payOnAccount(shop, customer.id, 40_000, transId);
    expect(mpesa.status, mpesa.text).toBe(201);
    expect(mpesa.body).toMatchObject({ method: 'mpesa', reference: transId, balanceAfter: 60_000 });
    expect(mpesa.body).not.toHaveProperty('needsReview');
    expect((await listTill(shop, '?status=unclaimed')).body.data).toEqual([]);
    const claimed = await listTill(shop, '?status=claimed');
    expect(claimed.body.data).toEqual([
      expect.objectContaining({ transId, status: 'claimed', customerPaymentId: mpesa.body.id }),
    ]);
    expect(claimed.body.data[0]).not.toHaveProperty('saleId');
    const receipt = await receiptOf(shop.business.id, transId);
    expect(receipt).toMatchObject({ customerPaymentId: mpesa.body.id, saleId: null });

    const cash = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.business.cashier.auth)
      .send(paymentBody(20_000));
    expect(cash.status, cash.text).toBe(201);
    expect(cash.body.balanceAfter).toBe(40_000);

    const statement = await http
      .get(`/customers/${customer.id}/statement`)
      .set('Authorization', shop.business.manager.auth);
    expect(statement.status, statement.text).toBe(200);
    expect(statement.body.balance).toBe(40_000);
    const entries = statement.body.data as { type: string; amount: number; balanceAfter: number }[];
    const chronological = [...entries].sort((a, b) => a.balanceAfter - b.balanceAfter).reverse();
    expect(chronological).toEqual([
      expect.objectContaining({
        type: 'sale',
        amount: 100_000,
        balanceAfter: 100_000,
        saleId: sale.id,
      }),
      expect.objectContaining({
        type: 'payment',
        amount: -40_000,
        balanceAfter: 60_000,
        paymentId: mpesa.body.id,
      }),
      expect.objectContaining({
        type: 'payment',
        amount: -20_000,
        balanceAfter: 40_000,
        paymentId: cash.body.id,
      }),
    ]);
    expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(statement.body.balance);
    expect(await expectLedgerExact(deps, customer.id)).toBe(40_000);
    expect(await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] })).toEqual([]);

    const remind = await http
      .post(`/customers/${customer.id}/remind`)
      .set('Authorization', shop.business.manager.auth);
    expect(remind.status, remind.text).toBe(202);
    const received = await eventually(
      () => sms.messages.find((m) => m.to === '+254712345126'),
      20_000,
      'the reminder at the SMS simulator',
    );
    expect(received.from).toBe('DUKA');
    expect(received.message).toContain('Mama Akinyi');
    expect(received.message).toContain('KES 400');
  });

  it('a receipt a sale already holds: the payment is recorded, flagged, and payment.conflict says so', async () => {
    const shop = await shopWithTill();
    const { customer } = await debtor(shop);
    const transId = await payTill(shop, 1_000);
    const sale = await http
      .post('/sales')
      .set('Authorization', shop.business.cashier.auth)
      .send(
        saleBody([{ product: shop.product }], {
          payments: [{ method: 'mpesa', amount: 100_000, reference: transId }],
        }),
      );
    expect(sale.status, sale.text).toBe(201);
    expect(sale.body.payments[0]).not.toHaveProperty('needsReview');

    const paid = await payOnAccount(shop, customer.id, 100_000, transId);
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body).toMatchObject({ needsReview: true, balanceAfter: 0 });
    expect(await receiptOf(shop.business.id, transId)).toMatchObject({
      saleId: sale.body.id,
      customerPaymentId: null,
    });
    const events = await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] });
    expect(events.map((row) => row.payload)).toEqual([
      {
        transId,
        saleId: null,
        customerPaymentId: paid.body.id,
        amount: 100_000,
        receivedAmount: 100_000,
        reason: 'already_claimed',
        claimedBySaleId: sale.body.id,
        claimedByCustomerPaymentId: null,
      },
    ]);
    // A replay answers the stored, flagged payment.
    const again = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.business.cashier.auth)
      .send({ ...paymentBody(0), ...pick(paid.body) });
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ id: paid.body.id, needsReview: true });
  });

  it('another amount: the payment claims the receipt and is flagged amount_mismatch', async () => {
    const shop = await shopWithTill();
    const { customer } = await debtor(shop);
    const transId = await payTill(shop, 300);
    const paid = await payOnAccount(shop, customer.id, 35_000, transId);
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body).toMatchObject({ needsReview: true, balanceAfter: 65_000 });
    expect(await receiptOf(shop.business.id, transId)).toMatchObject({
      customerPaymentId: paid.body.id,
    });
    const events = await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] });
    expect(events.map((row) => row.payload)).toEqual([
      expect.objectContaining({
        customerPaymentId: paid.body.id,
        reason: 'amount_mismatch',
        receivedAmount: 30_000,
        amount: 35_000,
      }),
    ]);
  });

  it('a sale and a payment on account race for one receipt: exactly one claim, the other flagged', async () => {
    for (let round = 0; round < 4; round++) {
      const shop = await shopWithTill();
      const { customer } = await debtor(shop);
      const transId = await payTill(shop, 1_000);
      const [sale, paid] = await Promise.all([
        http
          .post('/sales')
          .set('Authorization', shop.business.cashier2.auth)
          .send(
            saleBody([{ product: shop.product }], {
              payments: [{ method: 'mpesa', amount: 100_000, reference: transId }],
            }),
          ),
        payOnAccount(shop, customer.id, 100_000, transId),
      ]);
      expect(sale.status, sale.text).toBe(201);
      expect(paid.status, paid.text).toBe(201);
      const receipt = (await receiptOf(shop.business.id, transId))!;
      const saleHolds = receipt.salePaymentId !== null;
      expect(saleHolds).toBe(receipt.customerPaymentId === null);
      const [salePayment] = await deps.db
        .select()
        .from(salePayments)
        .where(eq(salePayments.saleId, sale.body.id as string));
      const [customerPayment] = await deps.db
        .select()
        .from(customerPayments)
        .where(eq(customerPayments.id, paid.body.id as string));
      expect(salePayment!.needsReview).toBe(!saleHolds);
      expect(customerPayment!.needsReview).toBe(saleHolds);
      if (saleHolds) expect(receipt.saleId).toBe(sale.body.id);
      else expect(receipt.customerPaymentId).toBe(paid.body.id);
      const events = await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] });
      expect(events).toHaveLength(1);
      expect(events[0]!.payload).toMatchObject({ reason: 'already_claimed', transId });
    }
  });

  it('a payment naming a TransID not received yet is accepted; the confirmation then claims the receipt for it', async () => {
    const shop = await shopWithTill();
    const { customer } = await debtor(shop);
    const transId = newTransId();
    const paid = await payOnAccount(shop, customer.id, 25_000, transId.toLowerCase());
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body).not.toHaveProperty('needsReview');
    expect(paid.body.balanceAfter).toBe(75_000);

    // A later sale naming the same receipt comes second: flagged when the receipt arrives.
    const sale = await http
      .post('/sales')
      .set('Authorization', shop.business.cashier.auth)
      .send(
        saleBody([{ product: shop.product, quantity: 0.25 }], {
          payments: [{ method: 'mpesa', amount: 25_000, reference: transId }],
        }),
      );
    expect(sale.status, sale.text).toBe(201);

    const confirmation = await http.post(shop.confirmationPath).send({
      TransactionType: 'Buy Goods',
      TransID: transId,
      TransTime: '20261206081500',
      TransAmount: '250.00',
      BusinessShortCode: shop.shortcode,
      BillRefNumber: '',
      InvoiceNumber: '',
      OrgAccountBalance: '1500.00',
      ThirdPartyTransID: '',
      MSISDN: '2547 ***** 126',
      FirstName: 'Akinyi',
      MiddleName: '',
      LastName: '',
    });
    expect(confirmation.body).toEqual({ ResultCode: '0', ResultDesc: 'Accepted' });
    expect(await applyAll(shop.business.id)).toEqual(['claimed']);

    expect(await receiptOf(shop.business.id, transId)).toMatchObject({
      customerPaymentId: paid.body.id,
      saleId: null,
      salePaymentId: null,
    });
    expect((await listTill(shop, '?status=claimed')).body.data).toEqual([
      expect.objectContaining({ transId, status: 'claimed', customerPaymentId: paid.body.id }),
    ]);
    const [customerPayment] = await deps.db
      .select()
      .from(customerPayments)
      .where(eq(customerPayments.id, paid.body.id as string));
    expect(customerPayment!.needsReview).toBe(false);
    const [salePayment] = await deps.db
      .select()
      .from(salePayments)
      .where(eq(salePayments.saleId, sale.body.id as string));
    expect(salePayment!.needsReview).toBe(true);
    const events = await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] });
    expect(events.map((row) => row.payload)).toEqual([
      expect.objectContaining({
        saleId: sale.body.id,
        reason: 'already_claimed',
        claimedBySaleId: null,
        claimedByCustomerPaymentId: paid.body.id,
      }),
    ]);
    // Applying again changes nothing.
    expect(await applyAll(shop.business.id)).toEqual(['claimed']);
  });
});

/** The fields of a recorded payment that its request carried. */
function pick(body: Record<string, unknown>) {
  return {
    clientRequestId: body.clientRequestId,
    amount: body.amount,
    method: body.method,
    reference: body.reference,
    occurredAt: body.occurredAt,
  };
}
