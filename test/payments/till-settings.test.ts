import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { businessMpesaSettings, payments } from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { createBusiness } from '../helpers/factories.js';
import {
  idempotencyKey,
  inboxRows,
  newTillApp,
  paymentRow,
  startPaymentsHarness,
  waitFor,
  type TillCredentials,
} from '../helpers/payments.js';

// A business's own M-Pesa settings: stored encrypted, never returned; the sale STK push goes
// through the business's own app and shortcode, the subscription push through the platform's.
const { http, deps, simulator, configureTill, pushSubscription } = await startPaymentsHarness();

const pushSaleAs = (auth: string, phoneNumber = '0712345678') =>
  http
    .post('/bv-payments/sale-stk-push')
    .set('Authorization', auth)
    .set('Idempotency-Key', idempotencyKey())
    .send({ amount: 1_000, phoneNumber, reference: 'Till' });

describe('PUT/GET /business/mpesa', () => {
  it('unconfigured: GET says so; the sale STK push and Register URL answer 422', async () => {
    const business = await createBusiness(deps);
    const got = await http.get('/business/mpesa').set('Authorization', business.owner.auth);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({
      configured: false,
      environment: null,
      type: null,
      shortcode: null,
      tillNumber: null,
      c2bRegisteredAt: null,
      c2bConfirmationUrl: null,
      c2bValidationUrl: null,
    });
    const pushes = simulator.stats.pushes;
    const push = await pushSaleAs(business.cashier.auth);
    expect(push.status).toBe(422);
    expect(push.body.code).toBe('UNPROCESSABLE');
    expect(simulator.stats.pushes).toBe(pushes);
    const register = await http
      .post('/business/mpesa/register-c2b')
      .set('Authorization', business.owner.auth);
    expect(register.status).toBe(422);
  });

  it('stores the secrets encrypted and never returns them', async () => {
    const business = await createBusiness(deps);
    const app = newTillApp(simulator, 'till');
    const put = await configureTill(business, { ...app, tillNumber: '5123456' });
    expect(put.status).toBe(200);
    const got = await http.get('/business/mpesa').set('Authorization', business.owner.auth);
    for (const response of [put, got]) {
      expect(response.body).toMatchObject({
        configured: true,
        environment: 'sandbox',
        type: 'till',
        shortcode: app.shortcode,
        tillNumber: '5123456',
        c2bRegisteredAt: null,
      });
      expect(response.body.c2bConfirmationUrl).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/bv-payments\/callbacks\/c2b\/[0-9a-f]{64}\/confirmation$/,
      );
      for (const secret of [app.consumerKey, app.consumerSecret, app.passkey]) {
        expect(response.text).not.toContain(secret);
      }
    }
    const [row] = await deps.db
      .select()
      .from(businessMpesaSettings)
      .where(eq(businessMpesaSettings.businessId, business.id));
    const stored = JSON.stringify(row);
    for (const secret of [app.consumerKey, app.consumerSecret, app.passkey]) {
      expect(stored).not.toContain(secret);
    }
    expect(row!.consumerSecretCiphertext).toMatch(/^v1\./);
  });

  it('a change keeps the callback token; another shortcode must be registered again', async () => {
    const business = await createBusiness(deps);
    const first = newTillApp(simulator);
    await configureTill(business, first);
    const registered = await http
      .post('/business/mpesa/register-c2b')
      .set('Authorization', business.owner.auth);
    expect(registered.status).toBe(200);
    const again = await configureTill(business, first);
    expect(again.body.c2bRegisteredAt).toBe(registered.body.c2bRegisteredAt);
    expect(again.body.c2bConfirmationUrl).toBe(registered.body.c2bConfirmationUrl);
    const moved = await configureTill(business, newTillApp(simulator));
    expect(moved.body.c2bRegisteredAt).toBeNull();
    expect(moved.body.c2bConfirmationUrl).toBe(registered.body.c2bConfirmationUrl);
  });

  it.each([
    [{ environment: 'live' }, 'environment'],
    [{ type: 'bank' }, 'type'],
    [{ shortcode: '12a45' }, 'shortcode'],
    [{ shortcode: '1234' }, 'shortcode'],
    [{ tillNumber: '1'.repeat(9) }, 'tillNumber'],
    [{ consumerKey: '' }, 'consumerKey'],
    [{ passkey: 'x'.repeat(201) }, 'passkey'],
    [{ consumerSecret: 'a\u0000b' }, 'consumerSecret'],
    [{ c2bTokenHash: 'mine' }, 'c2bTokenHash'],
  ])('refuses %j (400 naming %s)', async (change, field) => {
    const business = await createBusiness(deps);
    const body = { ...newTillApp(simulator), ...change } as Partial<TillCredentials>;
    const response = await configureTill(business, body);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.errors)).toContain(field);
  });

  it('a Daraja refusal of the app (wrong secret) is a problem, not a crash, and nothing is registered', async () => {
    const business = await createBusiness(deps);
    await configureTill(business, { ...newTillApp(simulator), consumerSecret: 'wrong' });
    const register = await http
      .post('/business/mpesa/register-c2b')
      .set('Authorization', business.owner.auth);
    // Refused credentials are an operator's fix (daraja-errors.ts): 502, the secret not echoed.
    expect(register.status).toBe(502);
    expect(register.body.code).toBe('BAD_GATEWAY');
    expect(register.text).not.toContain('wrong');
    const got = await http.get('/business/mpesa').set('Authorization', business.owner.auth);
    expect(got.body.c2bRegisteredAt).toBeNull();
  });
});

describe('the sale STK push uses the business’s own app', () => {
  it('two businesses with different credentials: Daraja sees each one’s shortcode; the subscription stays the platform’s', async () => {
    const [a, b] = await Promise.all([createBusiness(deps), createBusiness(deps)]);
    const appA = newTillApp(simulator);
    const appB = newTillApp(simulator, 'till');
    await configureTill(a, appA);
    await configureTill(b, { ...appB, tillNumber: '7654321' });

    const tokensBefore = simulator.stats.tokenRequests;
    const [pushA, pushB] = await Promise.all([
      pushSaleAs(a.cashier.auth, '0711000001'),
      pushSaleAs(b.cashier.auth, '0711000002'),
    ]);
    expect([pushA.status, pushB.status]).toEqual([202, 202]);
    // The simulator checks each Password against the shortcode's own passkey.
    const sent = (phone: string) =>
      simulator.requests.find(
        (request) =>
          request.path === '/mpesa/stkpush/v1/processrequest' && request.body.PhoneNumber === phone,
      )!.body;
    expect(sent('254711000001')).toMatchObject({
      BusinessShortCode: appA.shortcode,
      PartyB: appA.shortcode,
      TransactionType: 'CustomerPayBillOnline',
    });
    expect(sent('254711000002')).toMatchObject({
      BusinessShortCode: appB.shortcode,
      PartyB: '7654321',
      TransactionType: 'CustomerBuyGoodsOnline',
    });
    expect(String(sent('254711000001').CallBackURL)).toMatch(
      /\/bv-payments\/callbacks\/stk\/[0-9a-f]{64}$/,
    );
    // One token per credential set.
    expect(simulator.stats.tokenRequests - tokensBefore).toBe(2);

    const subscription = await pushSubscription(a, '0711000003');
    expect(subscription.status).toBe(202);
    expect(sent('254711000003')).toMatchObject({ BusinessShortCode: simulator.options.shortcode });

    // The callback reaches the payment through the new path and is stored.
    await waitFor(async () => {
      const row = await paymentRow(deps, pushA.body.id);
      return row.businessCredentials ? row : undefined;
    }, 'the payment row');
  });

  it('concurrent pushes of one business share one token (single-flight)', async () => {
    const business = await createBusiness(deps);
    await configureTill(business, newTillApp(simulator));
    const before = simulator.stats.tokenRequests;
    const pushes = await Promise.all(
      ['0712000001', '0712000002', '0712000003', '0712000004'].map((phone) =>
        pushSaleAs(business.cashier.auth, phone),
      ),
    );
    expect(pushes.map((push) => push.status)).toEqual([202, 202, 202, 202]);
    expect(simulator.stats.tokenRequests - before).toBe(1);
  });

  it('the old callback path keeps answering for payments created before the move', async () => {
    const business = await createBusiness(deps);
    // A payment made before the move: a base64url token in /bv-payments/mpesa/callback/….
    const token = randomBytes(32).toString('base64url');
    const id = newId();
    await deps.db.insert(payments).values({
      id,
      businessId: business.id,
      purpose: 'sale',
      amount: 1_000,
      phoneNumber: '254712345678',
      callbackTokenHash: createHash('sha256').update(token).digest('hex'),
      createdBy: business.cashier.id,
    });
    const old = await http
      .post(`/bv-payments/mpesa/callback/${token}`)
      .send({ Body: { stkCallback: { CheckoutRequestID: 'ws_CO_1', ResultCode: 1032 } } });
    expect(old.status).toBe(200);
    expect(old.body).toEqual({ ResultCode: 0, ResultDesc: 'Accepted' });
    expect(await inboxRows(deps, id)).toHaveLength(1);
    // The new path knows the same payments by their token; an unknown one is 404.
    const fresh = await http
      .post(`/bv-payments/callbacks/stk/${token}`)
      .send({ Body: { stkCallback: {} } });
    expect(fresh.status).toBe(200);
    expect(await inboxRows(deps, id)).toHaveLength(2);
    const unknown = await http
      .post(`/bv-payments/callbacks/stk/${'a'.repeat(64)}`)
      .send({ Body: { stkCallback: {} } });
    expect(unknown.status).toBe(404);
  });
});
