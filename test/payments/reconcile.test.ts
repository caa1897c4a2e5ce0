import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { businesses } from '../../src/db/schema/index.js';
import { applyCallback, reconcilePending } from '../../src/modules/payments/payments.job.js';
import { PLAN_DAYS } from '../../src/modules/business/subscription.rules.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import {
  idempotencyKey,
  paymentRow,
  startPaymentsHarness,
  waitFor,
  waitForCallbacks,
} from '../helpers/payments.js';
import { outboxRowsOf } from '../helpers/outbox.js';

// The API's clock moves on command; the simulator keeps real time.
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const { http, deps, simulator, pushSale } = await startPaymentsHarness({ clock });
const DAY_MS = 24 * 3600 * 1000;
const MINUTE = 60_000;

async function push(business: TestBusiness, phoneNumber: string, plan = 'monthly') {
  const response = await http
    .post('/bv-payments/subscription-stk-push')
    .set('Authorization', business.owner.auth)
    .set('Idempotency-Key', idempotencyKey())
    .send({ plan, phoneNumber });
  expect(response.status).toBe(202);
  return response.body as { id: string; checkoutRequestId: string };
}

const periodEnd = async (business: TestBusiness) =>
  (await deps.db.select().from(businesses).where(eq(businesses.id, business.id)))[0]!;

describe('reconciliation by STK query (no callback ever)', () => {
  it('settles from the query: "being processed" keeps it pending with backoff, then 1037 → failed', async () => {
    offsetMs = 0;
    simulator.options.noCallbackQueryPendingMs = 400;
    const business = await createBusiness(deps);
    const payment = await push(business, '254700000005');

    // Younger than 60 s: not queried at all.
    const queriesBefore = simulator.stats.queries;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({ queried: 0 });
    expect(simulator.stats.queries).toBe(queriesBefore);

    offsetMs = 61_000;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
      queried: 1,
      stillPending: 1,
    });
    const queried = await paymentRow(deps, payment.id);
    expect(queried).toMatchObject({ status: 'pending', queryAttempts: 1 });
    expect(queried.lastQueriedAt!.getTime()).toBeGreaterThanOrEqual(
      queried.createdAt.getTime() + 61_000,
    );

    // Backoff: asked again too soon, Daraja is not called.
    offsetMs = 65_000;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({ queried: 0 });

    await new Promise((resolve) => setTimeout(resolve, 450)); // the simulated phone times out
    offsetMs = 61_000 + 16_000;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
      queried: 1,
      settled: 1,
    });
    const settled = await paymentRow(deps, payment.id);
    expect(settled).toMatchObject({
      status: 'failed',
      resultCode: 1037,
      resultDesc: 'DS timeout user cannot be reached',
      confirmedBy: 'query',
      mpesaReceiptNumber: null,
    });
    expect((await outboxRowsOf(deps, business.id, { types: ['payment.failed'] })).length).toBe(1);
    expect((await periodEnd(business)).subscriptionPlan).toBeNull();
  });

  it('a success known only from the query succeeds without a receipt number, activates once', async () => {
    offsetMs = 0;
    simulator.options.dropCallbacks = true;
    try {
      const business = await createBusiness(deps);
      const before = await periodEnd(business);
      const payment = await push(business, '254712999001', 'annual');
      await waitFor(
        () =>
          Promise.resolve(
            Date.now() >= simulator.transactions.get(payment.checkoutRequestId)!.resultAt,
          ),
        'the simulated customer to pay',
      );
      offsetMs = 61_000;
      expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
        settled: 1,
      });
      expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
        queried: 0,
      });

      const response = await http
        .get(`/bv-payments/${payment.id}`)
        .set('Authorization', business.owner.auth);
      expect(response.body).toMatchObject({ status: 'succeeded', resultCode: 0 });
      expect(response.body).not.toHaveProperty('mpesaReceiptNumber');
      expect((await paymentRow(deps, payment.id)).confirmedBy).toBe('query');

      const after = await periodEnd(business);
      expect(after.subscriptionPlan).toBe('annual');
      expect(after.currentPeriodEnd.getTime()).toBe(
        before.currentPeriodEnd.getTime() + PLAN_DAYS.annual * DAY_MS,
      );
      const receipts = await outboxRowsOf(deps, business.id, { types: ['subscription-receipt'] });
      expect(receipts.map((row) => row.payload)).toEqual([
        expect.objectContaining({ plan: 'annual', mpesaReceiptNumber: null }),
      ]);
      expect(
        await outboxRowsOf(deps, business.id, { types: ['subscription.activated'] }),
      ).toHaveLength(1);
    } finally {
      simulator.options.dropCallbacks = false;
    }
  });

  it('a callback after the query settled it only adds the receipt number', async () => {
    offsetMs = 0;
    simulator.options.dropCallbacks = true;
    const business = await createBusiness(deps);
    const payment = await push(business, '254712999002');
    await waitFor(
      () =>
        Promise.resolve(
          Date.now() >= simulator.transactions.get(payment.checkoutRequestId)!.resultAt,
        ),
      'the simulated customer to pay',
    );
    offsetMs = 61_000;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
      settled: 1,
    });
    simulator.options.dropCallbacks = false;
    // The callback Daraja held back arrives after the query settled the payment.
    await simulator.deliverCallback(payment.checkoutRequestId);
    const [inboxId] = await waitForCallbacks(deps, payment.id);
    expect(await applyCallback(deps, inboxId!)).toEqual({
      outcome: 'receipt_recorded',
      alreadyProcessed: false,
    });
    const row = await paymentRow(deps, payment.id);
    expect(row).toMatchObject({ status: 'succeeded', confirmedBy: 'query' });
    expect(row.mpesaReceiptNumber).toBe(
      simulator.transactions.get(payment.checkoutRequestId)!.receiptNumber,
    );
    expect(
      await outboxRowsOf(deps, business.id, { types: ['subscription.activated'] }),
    ).toHaveLength(1);
    expect(await outboxRowsOf(deps, business.id, { types: ['payment.succeeded'] })).toHaveLength(1);
  });

  it('a stored callback whose job was lost is applied by the reconciler', async () => {
    offsetMs = 0;
    const business = await createBusiness(deps);
    const payment = await push(business, '254712999003');
    const [inboxId] = await waitForCallbacks(deps, payment.id);
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
      callbacksApplied: 0,
    });
    offsetMs = 31_000;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
      callbacksApplied: 1,
      queried: 0,
    });
    expect((await paymentRow(deps, payment.id)).status).toBe('succeeded');
    expect(await applyCallback(deps, inboxId!)).toMatchObject({ alreadyProcessed: true });
  });

  it('with no answer at all it expires at 10 minutes', async () => {
    offsetMs = 0;
    simulator.options.noCallbackQueryPendingMs = 3_600_000;
    const business = await createBusiness(deps);
    const payment = await push(business, '254700000005');

    offsetMs = 9 * MINUTE + 59_000;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({
      stillPending: 1,
    });
    expect((await paymentRow(deps, payment.id)).status).toBe('pending');

    offsetMs = 10 * MINUTE;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({ expired: 1 });
    const response = await http
      .get(`/bv-payments/${payment.id}`)
      .set('Authorization', business.owner.auth);
    expect(response.body).toMatchObject({ status: 'expired' });
    expect(response.body.completedAt).toEqual(expect.any(String));
    expect(
      (await outboxRowsOf(deps, business.id, { types: ['payment.failed'] })).map(
        (row) => row.payload,
      ),
    ).toEqual([response.body]);
    expect((await periodEnd(business)).subscriptionPlan).toBeNull();
  });
});

describe('late success after expiry (…0007): the money is not lost', () => {
  it('a subscription paid late is activated once', async () => {
    offsetMs = 0;
    simulator.options.lateCallbackDelayMs = 3_600_000; // held back until delivered below
    const business = await createBusiness(deps);
    const payment = await push(business, '254700000007');
    offsetMs = 10 * MINUTE;
    // The query still says "being processed" (the late callback is not due yet) → expired.
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({ expired: 1 });

    // Daraja finally delivers the success callback.
    const transaction = simulator.transactions.get(payment.checkoutRequestId)!;
    await simulator.deliverCallback(payment.checkoutRequestId);
    const [inboxId] = await waitForCallbacks(deps, payment.id);
    expect(await applyCallback(deps, inboxId!)).toEqual({
      outcome: 'late_success',
      alreadyProcessed: false,
    });
    const row = await paymentRow(deps, payment.id);
    expect(row).toMatchObject({
      status: 'succeeded',
      mpesaReceiptNumber: transaction.receiptNumber,
      confirmedBy: 'callback',
    });
    expect((await periodEnd(business)).subscriptionPlan).toBe('monthly');
    expect(
      await outboxRowsOf(deps, business.id, { types: ['subscription.activated'] }),
    ).toHaveLength(1);
  });

  it('the simulator’s own late callback for a sale lands in needs_review', async () => {
    offsetMs = 0;
    simulator.options.lateCallbackDelayMs = 3_000;
    const business = await createBusiness(deps);
    const response = await pushSale(business, {
      amount: 1_000,
      phoneNumber: '0700 000 007',
      reference: 'Late',
    });
    expect(response.status).toBe(202);
    offsetMs = 10 * MINUTE;
    expect(await reconcilePending(deps, { businessId: business.id })).toMatchObject({ expired: 1 });
    const [inboxId] = await waitForCallbacks(deps, response.body.id);
    expect((await applyCallback(deps, inboxId!)).outcome).toBe('late_success_review');
    expect((await paymentRow(deps, response.body.id)).status).toBe('needs_review');
  });
});

describe('expired subscription', () => {
  it('a write → 402, a read → 200, paying → writes work again', async () => {
    offsetMs = 0;
    const business = await createBusiness(deps, {
      subscriptionPlan: 'monthly',
      currentPeriodEnd: new Date(Date.now() - 10 * DAY_MS),
    });
    const write = () => http.post('/__test/managed').set('Authorization', business.owner.auth);
    const refused = await write();
    expect(refused.status).toBe(402);
    expect(refused.body.code).toBe('SUBSCRIPTION_INACTIVE');
    expect((await http.get('/__test/me').set('Authorization', business.owner.auth)).status).toBe(
      200,
    );

    // Payments are never refused for an expired subscription.
    const payment = await push(business, '0712 888 001');
    expect(
      (await http.get(`/bv-payments/${payment.id}`).set('Authorization', business.owner.auth))
        .status,
    ).toBe(200);
    const [inboxId] = await waitForCallbacks(deps, payment.id);
    expect((await applyCallback(deps, inboxId!)).outcome).toBe('applied');

    const after = await periodEnd(business);
    // From now (the old end is long past), not from the old end.
    expect(after.currentPeriodEnd.getTime()).toBeGreaterThan(Date.now() + 29 * DAY_MS);
    expect((await write()).status).toBe(204);
  });
});
