import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { businesses, emailLog, outbox } from '../../src/db/schema/index.js';
import { PLAN_DAYS } from '../../src/modules/business/subscription.rules.js';
import { reconcilePending } from '../../src/modules/payments/payments.job.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually, sleep, useJobs } from '../helpers/jobs.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { idempotencyKey, inboxRows, startPaymentsHarness } from '../helpers/payments.js';
import { awaitEvents, eventsOf, mailsTo } from '../helpers/flows.js';

// The API on a real port, the Daraja simulator calling it back over HTTP, a worker
// "process" (relay + BullMQ workers incl. the mpesa queue), SMTP and a webhook receiver.
const smtp = await startSmtpSink();
const receivers: Receiver[] = [];
afterAll(async () => {
  await smtp.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});
const { http, deps, config, simulator, apiUrl, pushSubscription, configureTill } =
  await startPaymentsHarness({
    env: { SMTP_URL: smtp.url },
  });
const jobs = useJobs({
  env: {
    SMTP_URL: smtp.url,
    PUBLIC_URL: apiUrl,
    MPESA_ENV: 'simulator',
    MPESA_BASE_URL: simulator.url,
  },
});
const DAY_MS = 24 * 3600 * 1000;

async function shopWithReceiver(): Promise<{ business: TestBusiness; receiver: Receiver }> {
  const business = await createBusiness(deps, { name: 'Duka M-Pesa' });
  jobs.businessIds.add(business.id);
  const receiver = await startReceiver();
  receivers.push(receiver);
  const created = await http
    .post('/webhooks')
    .set('Authorization', business.owner.auth)
    .send({
      url: receiver.url,
      events: ['payment.succeeded', 'payment.failed', 'subscription.activated'],
    });
  expect(created.status).toBe(201);
  receiver.secret = created.body.secret;
  return { business, receiver };
}

/** Starts a subscription STK push and checks it is pending; its payment. */
async function pushPendingSubscription(business: TestBusiness, phoneNumber: string) {
  const response = await pushSubscription(business, phoneNumber);
  expect(response.status).toBe(202);
  expect(response.body.status).toBe('pending');
  return response.body as { id: string; amount: number; checkoutRequestId: string };
}

async function settled(business: TestBusiness, paymentId: string) {
  return eventually(
    async () => {
      const payment = await http
        .get(`/bv-payments/${paymentId}`)
        .set('Authorization', business.owner.auth);
      return payment.body.status !== 'pending' && (payment.body as Record<string, unknown>);
    },
    20_000,
    `payment ${paymentId} settled`,
  );
}

async function subscriptionOf(business: TestBusiness) {
  const response = await http
    .get('/business/subscription')
    .set('Authorization', business.owner.auth);
  expect(response.status).toBe(200);
  return response.body as { plan: string | null; status: string; currentPeriodEnd: string };
}

const countOf = async (businessId: string, type: string) =>
  (
    await deps.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.businessId, businessId), eq(outbox.type, type)))
  ).length;

describe('M-Pesa subscription payment end to end', () => {
  it('STK push → simulator callback over HTTP → worker applies it → active, receipt email, verified webhooks', async () => {
    const { business, receiver } = await shopWithReceiver();
    const before = await subscriptionOf(business);
    expect(before).toMatchObject({ plan: null, status: 'trialing' });

    const pushed = await pushPendingSubscription(business, '0700 000-001');
    const payment = await settled(business, pushed.id);
    expect(payment).toMatchObject({
      status: 'succeeded',
      purpose: 'subscription',
      amount: config.plans.monthly,
      resultCode: 0,
    });
    expect(payment.mpesaReceiptNumber).toMatch(/^S[0-9A-F]{9}$/);

    const after = await subscriptionOf(business);
    expect(after).toEqual({
      plan: 'monthly',
      status: 'active',
      currentPeriodEnd: new Date(
        Date.parse(before.currentPeriodEnd) + PLAN_DAYS.monthly * DAY_MS,
      ).toISOString(),
    });

    const [mail] = await mailsTo(smtp, business.owner.email);
    expect(mail!.subject).toBe('Payment received: Duka M-Pesa monthly plan');
    expect(mail!.text).toContain(`M-Pesa receipt: ${String(payment.mpesaReceiptNumber)}`);
    expect(mail!.text).toContain('KES 1,500.00');
    expect(config.plans.monthly).toBe(150_000);

    const [succeeded] = await awaitEvents(receiver, 'payment.succeeded');
    expect(succeeded!.entry.verified).toBe(true);
    expect(succeeded!.event.data).toEqual(payment);
    const [activated] = await awaitEvents(receiver, 'subscription.activated');
    expect(activated!.entry.verified).toBe(true);
    expect(activated!.event.data).toEqual(after);

    // A write that needs an active subscription works (it did in the trial too).
    const product = await http
      .post('/products')
      .set('Authorization', business.manager.auth)
      .send({ name: 'Paid-for item', price: 100 });
    expect(product.status).toBe(201);
  });

  it('the duplicate-callback phone (…0006): two callbacks stored, one activation, one email, one event each', async () => {
    const { business, receiver } = await shopWithReceiver();
    const [row] = await deps.db.select().from(businesses).where(eq(businesses.id, business.id));
    const pushed = await pushPendingSubscription(business, '254700000006');
    const payment = await settled(business, pushed.id);
    expect(payment.status).toBe('succeeded');

    // Both callbacks reached the API and were applied by the worker: one applied, one duplicate.
    const inbox = await eventually(async () => {
      const rows = await inboxRows(deps, pushed.id);
      return rows.length === 2 && rows.every((r) => r.processedAt !== null) && rows;
    });
    expect(inbox.map((r) => r.outcome).sort()).toEqual(['applied', 'duplicate']);

    await mailsTo(smtp, business.owner.email);
    await awaitEvents(receiver, 'payment.succeeded');
    await awaitEvents(receiver, 'subscription.activated');
    await sleep(500); // a second email or event would land now
    expect(smtp.messages.filter((m) => m.to.includes(business.owner.email))).toHaveLength(1);
    expect(eventsOf(receiver, 'payment.succeeded')).toHaveLength(1);
    expect(eventsOf(receiver, 'subscription.activated')).toHaveLength(1);
    expect(await countOf(business.id, 'subscription-receipt')).toBe(1);
    expect((await subscriptionOf(business)).currentPeriodEnd).toBe(
      new Date(row!.currentPeriodEnd.getTime() + PLAN_DAYS.monthly * DAY_MS).toISOString(),
    );
  });

  it('a cancelled payment (…0002): payment.failed arrives, no email, the trial is unchanged', async () => {
    const { business, receiver } = await shopWithReceiver();
    const before = await subscriptionOf(business);
    const pushed = await pushPendingSubscription(business, '254700000002');
    const payment = await settled(business, pushed.id);
    expect(payment).toMatchObject({ status: 'cancelled', resultCode: 1032 });
    const [failed] = await awaitEvents(receiver, 'payment.failed');
    expect(failed!.entry.verified).toBe(true);
    expect(failed!.event.data).toEqual(payment);
    await sleep(300);
    expect(eventsOf(receiver, 'subscription.activated')).toHaveLength(0);
    expect(smtp.messages.some((m) => m.to.includes(business.owner.email))).toBe(false);
    expect(await subscriptionOf(business)).toEqual(before);
  });

  it('a success known only from the STK query still activates once and emails a receipt', async () => {
    const { business, receiver } = await shopWithReceiver();
    // Daraja never calls back (checked when the callback is due, so kept on until settled).
    simulator.options.dropCallbacks = true;
    const pushed = await pushPendingSubscription(business, '254700000001');
    try {
      // The worker's reconciler, a minute later (its scheduled run, for this shop only). While
      // the simulator still says "being processed" the reconciler backs off (15 s, 30 s, 60 s…),
      // so each try runs that much later again — still well inside the 10-minute expiry.
      const offsetsSeconds = [61, 77, 107, 167, 287, 407, 527];
      let attempt = 0;
      await eventually(
        async () => {
          const offset = offsetsSeconds[Math.min(attempt++, offsetsSeconds.length - 1)]! * 1000;
          const later = { ...jobs.deps, clock: () => new Date(Date.now() + offset) };
          if ((await reconcilePending(later, { businessId: business.id })).settled === 1)
            return true;
          await sleep(700); // give the simulator time to finish before the next, later try
          return undefined;
        },
        20_000,
        'the query to settle the payment',
      );
    } finally {
      simulator.options.dropCallbacks = false;
    }
    expect(await inboxRows(deps, pushed.id)).toEqual([]);
    const payment = await settled(business, pushed.id);
    expect(payment).toMatchObject({ status: 'succeeded', resultCode: 0 });
    expect(payment).not.toHaveProperty('mpesaReceiptNumber');
    expect(await subscriptionOf(business)).toMatchObject({ plan: 'monthly', status: 'active' });

    const log = await eventually(async () => {
      const [row] = await deps.db
        .select()
        .from(emailLog)
        .where(eq(emailLog.to, business.owner.email));
      return row;
    });
    expect(log).toMatchObject({ template: 'subscription-receipt', status: 'sent', error: null });
    const [mail] = await mailsTo(smtp, business.owner.email);
    expect(mail!.subject).toBe('Payment received: Duka M-Pesa monthly plan');
    expect(mail!.text).toContain('confirmed by an M-Pesa status query');
    await awaitEvents(receiver, 'payment.succeeded');
    await awaitEvents(receiver, 'subscription.activated');
  });

  it('an expired shop: catalog writes 402, reads and sales still work; paying by M-Pesa makes writes work again', async () => {
    const business = await createBusiness(deps, {
      name: 'Duka Expired',
      currentPeriodEnd: new Date(Date.now() - 10 * DAY_MS),
      subscriptionPlan: 'monthly',
    });
    jobs.businessIds.add(business.id);
    expect(await subscriptionOf(business)).toMatchObject({ plan: 'monthly', status: 'expired' });
    const write = () =>
      http
        .post('/products')
        .set('Authorization', business.manager.auth)
        .send({ name: 'Sukari 1kg', price: 18_000 });
    const refused = await write();
    expect(refused.status).toBe(402);
    expect(refused.body.code).toBe('SUBSCRIPTION_INACTIVE');
    expect((await http.get('/products').set('Authorization', business.cashier.auth)).status).toBe(
      200,
    );
    const product = await insertProduct(deps, business.id, business.manager.id);
    const sale = await http
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(saleBody([{ product }]));
    expect(sale.status).toBe(201);

    const pushed = await pushPendingSubscription(business, '254711222333');
    expect((await settled(business, pushed.id)).status).toBe('succeeded');
    const now = Date.now();
    const renewed = await subscriptionOf(business);
    expect(renewed).toMatchObject({ plan: 'monthly', status: 'active' });
    // From now (the old end is in the past), not from the old end.
    expect(Date.parse(renewed.currentPeriodEnd)).toBeGreaterThan(
      now + (PLAN_DAYS.monthly - 1) * DAY_MS,
    );
    expect((await write()).status).toBe(201);
    await mailsTo(smtp, business.owner.email);
  });

  it('checkout: a sale STK push succeeds, then the till records the sale with the M-Pesa receipt; both reach the integrator', async () => {
    const { business, receiver } = await shopWithReceiver();
    const sales = await startReceiver();
    receivers.push(sales);
    const salesEndpoint = await http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({ url: sales.url, events: ['sale.created'] });
    sales.secret = salesEndpoint.body.secret;
    const product = await insertProduct(deps, business.id, business.manager.id, { price: 25_000 });
    // The shop's own M-Pesa app (the simulator's default one) takes the sale's payment.
    expect((await configureTill(business)).status).toBe(200);

    const pushed = await http
      .post('/bv-payments/sale-stk-push')
      .set('Authorization', business.cashier.auth)
      .set('Idempotency-Key', idempotencyKey())
      .send({ amount: 50_000, phoneNumber: '+254 712 345 678', reference: 'TILL-1' });
    expect(pushed.status).toBe(202);
    const payment = await eventually(async () => {
      const answer = await http
        .get(`/bv-payments/${pushed.body.id as string}`)
        .set('Authorization', business.cashier.auth);
      return answer.body.status !== 'pending' && (answer.body as Record<string, unknown>);
    });
    expect(payment).toMatchObject({ status: 'succeeded', purpose: 'sale', amount: 50_000 });
    const [paid] = await awaitEvents(receiver, 'payment.succeeded');
    expect(paid!.event.data).toEqual(payment);

    const sale = await http
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(
        saleBody([{ product, quantity: 2 }], {
          payments: [
            { method: 'mpesa', amount: 50_000, reference: payment.mpesaReceiptNumber as string },
          ],
        }),
      );
    expect(sale.status).toBe(201);
    expect(sale.body.payments).toEqual([
      { method: 'mpesa', amount: 50_000, reference: payment.mpesaReceiptNumber },
    ]);
    const [created] = await awaitEvents(sales, 'sale.created');
    expect(created!.entry.verified).toBe(true);
    expect(created!.event.data).toEqual(sale.body);
    // A sale payment never touches the subscription.
    expect(eventsOf(receiver, 'subscription.activated')).toHaveLength(0);
    expect((await subscriptionOf(business)).status).toBe('trialing');
  });
});
