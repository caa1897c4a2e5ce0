import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { payments } from '../../src/db/schema/index.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { idempotencyKey, inboxRows, startPaymentsHarness } from '../helpers/payments.js';

const { http, deps, simulator, pushSubscription, pushSale, configureTill } =
  await startPaymentsHarness();

describe('STK push requests', () => {
  it('replaying the Idempotency-Key answers the same payment and makes one Daraja call', async () => {
    const business = await createBusiness(deps);
    const key = idempotencyKey();
    const pushesBefore = simulator.stats.pushes;
    const first = await pushSubscription(business, '254733000001', key);
    const again = await pushSubscription(business, '254733000001', key);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(simulator.stats.pushes - pushesBefore).toBe(1);
    expect(await deps.db.$count(payments, eq(payments.businessId, business.id))).toBe(1);
    expect((await pushSubscription(business, '254733000002', key)).status).toBe(422);
  });

  it('5 concurrent pushes with one key: one payment, one Daraja call', async () => {
    const business = await createBusiness(deps);
    const key = idempotencyKey();
    const pushesBefore = simulator.stats.pushes;
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => pushSubscription(business, '254733000009', key)),
    );
    const accepted = responses.filter((response) => response.status === 202);
    const busy = responses.filter((response) => response.status === 409);
    expect(accepted.length + busy.length).toBe(5);
    expect(new Set(accepted.map((response) => response.body.id as string)).size).toBe(1);
    for (const response of busy) {
      expect(response.body).toMatchObject({
        code: 'IDEMPOTENCY_REQUEST_IN_PROGRESS',
        retryable: true,
      });
    }
    expect(simulator.stats.pushes - pushesBefore).toBe(1);
    expect(await deps.db.$count(payments, eq(payments.businessId, business.id))).toBe(1);
  });

  it('requires an Idempotency-Key', async () => {
    const business = await createBusiness(deps);
    const response = await http
      .post('/bv-payments/sale-stk-push')
      .set('Authorization', business.cashier.auth)
      .send({ amount: 100, phoneNumber: '0712345678', reference: 'x' });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
  });

  it.each([
    [{ amount: 150, phoneNumber: '0712345678', reference: 'R1' }, 'amount'],
    [{ amount: 0, phoneNumber: '0712345678', reference: 'R1' }, 'amount'],
    [{ amount: '100', phoneNumber: '0712345678', reference: 'R1' }, 'amount'],
    [{ amount: 100, phoneNumber: '0812345678', reference: 'R1' }, 'phoneNumber'],
    [{ amount: 100, phoneNumber: '+255712345678', reference: 'R1' }, 'phoneNumber'],
    [{ amount: 100, phoneNumber: '0712345678', reference: 'much-too-long-ref' }, 'reference'],
    [{ amount: 100, phoneNumber: '0712345678', reference: 'R1', businessId: 'x' }, 'businessId'],
  ])('refuses %j with 400 naming %s, without calling Daraja', async (body, field) => {
    const business = await createBusiness(deps);
    const pushesBefore = simulator.stats.pushes;
    const response = await pushSale(business, body);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(field);
    expect(simulator.stats.pushes).toBe(pushesBefore);
  });

  it('refuses an unknown plan', async () => {
    const business = await createBusiness(deps);
    const response = await http
      .post('/bv-payments/subscription-stk-push')
      .set('Authorization', business.owner.auth)
      .set('Idempotency-Key', idempotencyKey())
      .send({ plan: 'weekly', phoneNumber: '0712345678' });
    expect(response.status).toBe(400);
  });

  it('maps Daraja refusals: a locked subscriber is 503 retryable, an invalid phone 422 not', async () => {
    const business = await createBusiness(deps);
    simulator.failNext('/mpesa/stkpush/v1/processrequest', 500, {
      requestId: 'x',
      errorCode: '500.001.1001',
      errorMessage:
        'Unable to lock subscriber, a transaction is already in process for the current subscriber',
    });
    const locked = await pushSale(business, {
      amount: 100,
      phoneNumber: '0712345678',
      reference: 'R1',
    });
    expect(locked.status).toBe(503);
    expect(locked.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });

    simulator.failNext('/mpesa/stkpush/v1/processrequest', 400, {
      requestId: 'y',
      errorCode: '400.002.02',
      errorMessage: 'Bad Request - Invalid PhoneNumber',
    });
    const invalid = await pushSale(business, {
      amount: 100,
      phoneNumber: '0712345679',
      reference: 'R1',
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ code: 'UNPROCESSABLE', retryable: false });
    expect(invalid.body.detail).toContain('Invalid PhoneNumber');

    simulator.failNext('/mpesa/stkpush/v1/processrequest', 500, {
      requestId: 'z',
      errorCode: '500.003.02',
      errorMessage: 'Spike Arrest Violation',
    });
    const spike = await pushSale(business, {
      amount: 100,
      phoneNumber: '0712345670',
      reference: 'R1',
    });
    expect(spike.body).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', retryable: true });

    // The refused attempts are recorded as failed, never left pending.
    const rows = await deps.db.select().from(payments).where(eq(payments.businessId, business.id));
    expect(rows.map((row) => row.status)).toEqual(['failed', 'failed', 'failed']);
  });

  it('a business with a Till sends CustomerBuyGoodsOnline with its till number as PartyB', async () => {
    const business = await createBusiness(deps);
    const configured = await configureTill(business, { type: 'till', tillNumber: '5123456' });
    expect(configured.status).toBe(200);
    const response = await pushSale(business, {
      amount: 5_000,
      phoneNumber: '0712345678',
      reference: 'Till',
    });
    expect(response.status).toBe(202);
    expect(simulator.requests.at(-1)!.body).toMatchObject({
      TransactionType: 'CustomerBuyGoodsOnline',
      BusinessShortCode: '174379',
      PartyB: '5123456',
    });
  });
});

describe('route guards', () => {
  const pair = Promise.all([createBusiness(deps), createBusiness(deps)]);

  it('subscription STK push: owner only', async () => {
    const [owner, other] = await pair;
    await expectRouteGuards(
      http,
      { owner, other },
      {
        method: 'post',
        path: '/bv-payments/subscription-stk-push',
        body: { plan: 'monthly', phoneNumber: '0712345678' },
        headers: { 'Idempotency-Key': idempotencyKey() },
        allowed: ['owner'],
        namesResource: false,
      },
    );
  });

  it('sale STK push: every role', async () => {
    const [owner, other] = await pair;
    await expectRouteGuards(
      http,
      { owner, other },
      {
        method: 'post',
        path: '/bv-payments/sale-stk-push',
        body: { amount: 100, phoneNumber: '0712345678', reference: 'R1' },
        headers: { 'Idempotency-Key': idempotencyKey() },
        allowed: ['owner', 'manager', 'cashier'],
        namesResource: false,
      },
    );
  });

  it('GET a payment: another business gets 404; subscription payments are the owner’s', async () => {
    const [owner, other] = await pair;
    const sale = await pushSale(owner, { amount: 100, phoneNumber: '0712345678', reference: 'R1' });
    await expectRouteGuards(
      http,
      { owner, other },
      {
        method: 'get',
        path: `/bv-payments/${sale.body.id}`,
        allowed: ['owner', 'manager', 'cashier'],
        namesResource: true,
      },
    );
    const subscription = await pushSubscription(owner, '0712345678');
    for (const user of [owner.manager, owner.cashier]) {
      const response = await http
        .get(`/bv-payments/${subscription.body.id}`)
        .set('Authorization', user.auth);
      expect(response.status).toBe(404);
    }
    expect(
      (await http.get('/bv-payments/not-a-uuid').set('Authorization', owner.owner.auth)).status,
    ).toBe(404);
  });

  it('the callback is public but refuses sources outside MPESA_CALLBACK_ALLOWLIST when set', async () => {
    const guarded = await startPaymentsHarness({
      env: { MPESA_CALLBACK_ALLOWLIST: '196.201.214.0/24' },
    });
    const business = await createBusiness(guarded.deps);
    const response = await guarded.pushSale(business, {
      amount: 100,
      phoneNumber: '0712345678',
      reference: 'R1',
    });
    expect(response.status).toBe(202);
    // The simulator's callback comes from 127.0.0.1: refused, nothing stored.
    const callbackUrl = String(guarded.simulator.requests.at(-1)!.body.CallBackURL);
    const refused = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Body: {} }),
    });
    expect(refused.status).toBe(403);
    expect(await inboxRows(guarded.deps, response.body.id)).toEqual([]);
  });
});
