import { Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { businesses, mpesaCallbackInbox, outbox } from '../../src/db/schema/index.js';
import { createQueueConnection, queuePrefix } from '../../src/jobs/connection.js';
import { applyCallback, mpesaQueue } from '../../src/modules/payments/payments.job.js';
import { PLAN_DAYS } from '../../src/modules/business/subscription.rules.js';
import { createBusiness } from '../helpers/factories.js';
import {
  inboxRows,
  paymentRow,
  startPaymentsHarness,
  waitForCallbacks,
} from '../helpers/payments.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const { http, deps, simulator, config, pushSubscription, pushSale } = await startPaymentsHarness();
const DAY_MS = 24 * 3600 * 1000;

/** Runs the relay's part by hand: the outbox job rows for these callbacks go through a real BullMQ worker. */
async function applyThroughWorker(businessId: string, inboxIds: string[]) {
  const connection = createQueueConnection(config);
  const prefix = queuePrefix(config);
  const queue = new Queue(mpesaQueue.queue, { connection, prefix });
  const events = new QueueEvents(mpesaQueue.queue, { connection: connection.duplicate(), prefix });
  const worker = new Worker(mpesaQueue.queue, (job) => mpesaQueue.process(job, deps), {
    connection: connection.duplicate({ maxRetriesPerRequest: null }),
    prefix,
    concurrency: 5,
  });
  try {
    await events.waitUntilReady();
    const jobs = (await outboxRowsOf(deps, businessId, { types: ['mpesa:apply-callback'] })).filter(
      (row) => inboxIds.includes((row.payload as { inboxId: string }).inboxId),
    );
    expect(jobs).toHaveLength(inboxIds.length);
    const added = await Promise.all(
      jobs.map((row) =>
        queue.add('apply-callback', row.payload, { jobId: row.messageId, attempts: 3 }),
      ),
    );
    const results: unknown[] = await Promise.all(
      added.map((job) => job.waitUntilFinished(events, 20_000)),
    );
    return results;
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    connection.disconnect();
  }
}

describe('subscription STK push → callback → activation', () => {
  it('succeeds, extends the period once, emails the receipt and emits the events (through a BullMQ worker)', async () => {
    const business = await createBusiness(deps);
    const [before] = await deps.db.select().from(businesses).where(eq(businesses.id, business.id));
    const started = Date.now();

    const response = await pushSubscription(business, '0700 000-001');
    expect(response.status).toBe(202);
    expect(response.headers.location).toBe(`/bv-payments/${response.body.id}`);
    expect(response.body).toMatchObject({
      purpose: 'subscription',
      status: 'pending',
      amount: config.plans.monthly,
      phoneNumber: '254700000001',
      customerMessage: 'Success. Request accepted for processing',
    });
    expect(response.body.checkoutRequestId).toMatch(/^ws_CO_/);
    expect(response.body).not.toHaveProperty('mpesaReceiptNumber');

    // What Daraja received: whole shillings, PayBill, our callback URL, the password.
    const push = simulator.requests.find(
      (request) =>
        request.body.CheckoutRequestID === undefined && request.body.PhoneNumber === '254700000001',
    )!;
    expect(push.body).toMatchObject({
      Amount: config.plans.monthly / 100,
      TransactionType: 'CustomerPayBillOnline',
      PartyA: '254700000001',
      PartyB: '174379',
      AccountReference: 'Subscription',
    });
    expect(String(push.body.CallBackURL)).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/bv-payments/callbacks/stk/[0-9a-f]{64}$`),
    );

    const [inboxId] = await waitForCallbacks(deps, response.body.id);
    const results = await applyThroughWorker(business.id, [inboxId!]);
    expect(results).toEqual([{ outcome: 'applied', alreadyProcessed: false }]);

    const payment = await http
      .get(`/bv-payments/${response.body.id}`)
      .set('Authorization', business.owner.auth);
    expect(payment.status).toBe(200);
    expect(payment.body).toMatchObject({ status: 'succeeded', resultCode: 0 });
    expect(payment.body.mpesaReceiptNumber).toMatch(/^S[0-9A-F]{9}$/);
    expect(payment.body.completedAt).toEqual(expect.any(String));
    expect((await paymentRow(deps, response.body.id)).confirmedBy).toBe('callback');

    const [after] = await deps.db.select().from(businesses).where(eq(businesses.id, business.id));
    expect(after!.subscriptionPlan).toBe('monthly');
    // From the later of now and the trial end: the trial end here.
    expect(after!.currentPeriodEnd.getTime()).toBe(
      before!.currentPeriodEnd.getTime() + PLAN_DAYS.monthly * DAY_MS,
    );
    expect(started).toBeLessThan(after!.currentPeriodEnd.getTime());

    const rows = await outboxRowsOf(deps, business.id);
    const byType = (type: string) => rows.filter((row) => row.type === type);
    expect(byType('payment.succeeded').map((row) => row.payload)).toEqual([payment.body]);
    expect(byType('subscription.activated').map((row) => row.payload)).toEqual([
      {
        plan: 'monthly',
        status: 'active',
        currentPeriodEnd: after!.currentPeriodEnd.toISOString(),
      },
    ]);
    expect(byType('subscription-receipt').map((row) => [row.kind, row.payload])).toEqual([
      [
        'email',
        {
          to: business.owner.email,
          businessName: business.name,
          plan: 'monthly',
          amount: config.plans.monthly,
          mpesaReceiptNumber: payment.body.mpesaReceiptNumber,
          currentPeriodEnd: after!.currentPeriodEnd.toISOString(),
        },
      ],
    ]);

    // Re-running the same job (at-least-once delivery) changes nothing.
    expect(await applyCallback(deps, inboxId!)).toEqual({
      outcome: 'applied',
      alreadyProcessed: true,
    });
    expect(await outboxRowsOf(deps, business.id)).toHaveLength(rows.length);
  });

  it('the same callback delivered 5 times concurrently: one activation, one receipt, one event', async () => {
    const business = await createBusiness(deps);
    const [before] = await deps.db.select().from(businesses).where(eq(businesses.id, business.id));
    const response = await pushSubscription(business, '254712000111');
    expect(response.status).toBe(202);
    const [first] = await inboxRows(deps, response.body.id).then(async (rows) =>
      rows.length > 0
        ? rows
        : waitForCallbacks(deps, response.body.id).then(() => inboxRows(deps, response.body.id)),
    );
    const callbackUrl = String(
      simulator.requests.find(
        (request) => request.body.CallBackURL && request.body.PhoneNumber === '254712000111',
      )!.body.CallBackURL,
    );

    const deliveries = await Promise.all(
      Array.from({ length: 5 }, () =>
        fetch(callbackUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(first!.rawPayload),
        }).then(async (res) => ({ status: res.status, body: await res.json() })),
      ),
    );
    for (const delivery of deliveries)
      expect(delivery).toEqual({ status: 200, body: { ResultCode: 0, ResultDesc: 'Accepted' } });

    const inboxIds = await waitForCallbacks(deps, response.body.id, 6);
    const outcomes = await Promise.all(inboxIds.map((id) => applyCallback(deps, id)));
    expect(outcomes.filter((outcome) => outcome.outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.outcome === 'duplicate')).toHaveLength(5);

    const [after] = await deps.db.select().from(businesses).where(eq(businesses.id, business.id));
    expect(after!.currentPeriodEnd.getTime()).toBe(
      before!.currentPeriodEnd.getTime() + PLAN_DAYS.monthly * DAY_MS,
    );
    expect(
      await outboxRowsOf(deps, business.id, { types: ['subscription.activated'] }),
    ).toHaveLength(1);
    expect(await outboxRowsOf(deps, business.id, { types: ['subscription-receipt'] })).toHaveLength(
      1,
    );
    expect(await outboxRowsOf(deps, business.id, { types: ['payment.succeeded'] })).toHaveLength(1);
    expect(await outboxRowsOf(deps, business.id, { types: ['mpesa:apply-callback'] })).toHaveLength(
      6,
    );
  });

  it('the simulator’s duplicate-callback scenario (…0006) applies once', async () => {
    const business = await createBusiness(deps);
    const response = await pushSubscription(business, '254700000006');
    const inboxIds = await waitForCallbacks(deps, response.body.id, 2);
    const outcomes = await Promise.all(inboxIds.map((id) => applyCallback(deps, id)));
    expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(['applied', 'duplicate']);
    expect(
      await outboxRowsOf(deps, business.id, { types: ['subscription.activated'] }),
    ).toHaveLength(1);
  });
});

describe('callbacks that must not activate anything', () => {
  it('a forged callback (unknown token) is 404 and nothing is stored', async () => {
    const marker = `ws_CO_forged_${Date.now()}`;
    const stored = () =>
      deps.db.$count(
        mpesaCallbackInbox,
        sql`${mpesaCallbackInbox.rawPayload}::text like ${`%${marker}%`}`,
      );
    const response = await http
      .post('/bv-payments/mpesa/callback/not-a-real-token-0123456789')
      .send({
        Body: { stkCallback: { CheckoutRequestID: marker, ResultCode: 0, ResultDesc: 'ok' } },
      });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
    expect(await stored()).toBe(0);
    expect(await deps.db.$count(outbox, sql`${outbox.payload}::text like ${`%${marker}%`}`)).toBe(
      0,
    );
  });

  it('the callback token never reaches the request log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = buildApp({ ...deps, logger: pino({ level: 'info' }, stream) });
    const response = await supertest(app.callback())
      .post('/bv-payments/mpesa/callback/secret-token-0123456789')
      .send({ Body: {} });
    expect(response.status).toBe(404);
    const log = lines.join('');
    expect(log).toContain('/bv-payments/mpesa/callback/[redacted]');
    expect(log).not.toContain('secret-token-0123456789');
  });

  it('a callback whose amount differs (…0008) → needs_review, nothing activated, no event', async () => {
    const business = await createBusiness(deps);
    const [before] = await deps.db.select().from(businesses).where(eq(businesses.id, business.id));
    const response = await pushSubscription(business, '254700000008');
    const [inboxId] = await waitForCallbacks(deps, response.body.id);
    expect(await applyCallback(deps, inboxId!)).toEqual({
      outcome: 'needs_review',
      alreadyProcessed: false,
    });

    const payment = await http
      .get(`/bv-payments/${response.body.id}`)
      .set('Authorization', business.owner.auth);
    expect(payment.body.status).toBe('needs_review');
    const [after] = await deps.db.select().from(businesses).where(eq(businesses.id, business.id));
    expect(after).toEqual(before);
    const types = (await outboxRowsOf(deps, business.id)).map((row) => row.type);
    expect(types).toEqual(['mpesa:apply-callback']);
  });

  it('a callback to a payment’s URL naming another CheckoutRequestID is kept and not applied', async () => {
    const business = await createBusiness(deps);
    const response = await pushSubscription(business, '254722333444');
    const [inboxId] = await waitForCallbacks(deps, response.body.id);
    const [stored] = await inboxRows(deps, response.body.id);
    const payload = structuredClone(stored!.rawPayload) as {
      Body: { stkCallback: Record<string, unknown> };
    };
    payload.Body.stkCallback.CheckoutRequestID = 'ws_CO_someone_else';
    const callbackUrl = String(
      simulator.requests.find((request) => request.body.PhoneNumber === '254722333444')!.body
        .CallBackURL,
    );
    const forged = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(forged.status).toBe(200);
    const ids = await waitForCallbacks(deps, response.body.id, 2);
    const forgedId = ids.find((id) => id !== inboxId)!;
    expect(await applyCallback(deps, forgedId)).toEqual({
      outcome: 'unknown_checkout',
      alreadyProcessed: false,
    });
    expect((await paymentRow(deps, response.body.id)).status).toBe('pending');
    const [row] = await deps.db
      .select()
      .from(mpesaCallbackInbox)
      .where(eq(mpesaCallbackInbox.id, forgedId));
    expect(row).toMatchObject({
      outcome: 'unknown_checkout',
      checkoutRequestId: 'ws_CO_someone_else',
    });
    expect(row!.processedAt).not.toBeNull();
  });

  it.each([
    ['254700000002', 'cancelled', 1032],
    ['254700000003', 'failed', 1],
    ['254700000004', 'failed', 2001],
  ])('phone %s → %s (%i) with payment.failed', async (phone, status, code) => {
    const business = await createBusiness(deps);
    const response = await pushSale(business, {
      amount: 25_000,
      phoneNumber: phone,
      reference: 'R-1001',
    });
    expect(response.status).toBe(202);
    const [inboxId] = await waitForCallbacks(deps, response.body.id);
    await applyCallback(deps, inboxId!);
    const payment = await http
      .get(`/bv-payments/${response.body.id}`)
      .set('Authorization', business.cashier.auth);
    expect(payment.body).toMatchObject({ status, resultCode: code });
    expect(payment.body).not.toHaveProperty('mpesaReceiptNumber');
    const failed = await outboxRowsOf(deps, business.id, { types: ['payment.failed'] });
    expect(failed.map((row) => row.payload)).toEqual([payment.body]);
  });

  it('a sale payment succeeds without touching the subscription', async () => {
    const business = await createBusiness(deps);
    const response = await pushSale(business, {
      amount: 123_400,
      phoneNumber: '0110 123456',
      reference: 'Table 4',
    });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      purpose: 'sale',
      amount: 123_400,
      phoneNumber: '254110123456',
    });
    const push = simulator.requests.find((request) => request.body.PhoneNumber === '254110123456')!;
    expect(push.body).toMatchObject({
      Amount: 1234,
      AccountReference: 'Table 4',
      TransactionDesc: 'Sale payment',
    });
    const [inboxId] = await waitForCallbacks(deps, response.body.id);
    expect((await applyCallback(deps, inboxId!)).outcome).toBe('applied');
    expect((await paymentRow(deps, response.body.id)).status).toBe('succeeded');
    const types = (await outboxRowsOf(deps, business.id)).map((row) => row.type).sort();
    expect(types).toEqual(['mpesa:apply-callback', 'payment.succeeded']);
  });
});

describe('the mpesa queue', () => {
  it('refuses malformed job data and unknown job names as permanent failures', async () => {
    // Only name and data are read by the processor.
    const job = (name: string, data: unknown) => ({ name, data }) as unknown as Job;
    await expect(mpesaQueue.process(job('apply-callback', {}), deps)).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
    await expect(
      mpesaQueue.process(job('apply-callback', { inboxId: 'not-a-uuid' }), deps),
    ).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(mpesaQueue.process(job('nonsense', {}), deps)).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
    // A job for an inbox row that does not exist completes without doing anything.
    expect(
      await mpesaQueue.process(
        job('apply-callback', { inboxId: '01900000-0000-7000-8000-000000000000' }),
        deps,
      ),
    ).toEqual({ outcome: 'missing', alreadyProcessed: false });
    expect(mpesaQueue.schedules).toHaveProperty('reconcile');
  });
});
