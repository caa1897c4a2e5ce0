import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { defineRoute } from '../../src/http/route.js';
import { createLogger } from '../../src/lib/logger.js';
import { z } from '../../src/lib/zod.js';
import { startDarajaSimulator } from '../../src/mpesa/simulator/simulator.js';
import { allRoutes } from '../../src/routes.js';
import { emailsTo, tokenOf, uniqueEmail, type AuthBody } from '../helpers/auth.js';
import { createTestApp } from '../helpers/app.js';
import { freePort } from '../helpers/process.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { testRoutes } from '../helpers/test-routes.js';

/*
 * Every log line of a real app (LOG_LEVEL trace, so every line is produced) is captured in
 * memory while the flows that handle secrets run; then none of those secrets may appear in
 * the captured text: passwords, access/refresh tokens, invite and reset tokens, webhook
 * secrets, M-Pesa callback tokens and full phone numbers.
 */

const captured: string[] = [];
const sink = new Writable({
  write(chunk: Buffer | string, _encoding, callback) {
    captured.push(chunk.toString());
    callback();
  },
});
const logger = createLogger({ logLevel: 'trace', env: 'test' }, {}, sink);

/** A 500 whose cause is a failed SQL statement carrying secrets as bound parameters. */
const failingQueryRoute = defineRoute({
  method: 'post',
  path: '/__test/failing-query',
  operationId: 'testFailingQuery',
  summary: 'fails in SQL with secrets as parameters',
  tags: ['Test'],
  access: 'public',
  request: { body: z.strictObject({ phone: z.string(), token: z.string() }) },
  responses: { 200: { description: 'never' } },
  handler: async (ctx) => {
    const { phone, token } = ctx.input.body;
    await ctx.deps.db.execute(
      sql`select * from no_such_table_for_log_test where phone = ${phone} and token = ${token}`,
    );
    ctx.body = {};
  },
});

const simulator = await startDarajaSimulator({ callbackDelayMs: 30 });
/** The SMS delivery-report URL's secret segment. */
const SMS_TOKEN = `sms-token-${randomUUID()}`;
const port = await freePort();
const apiUrl = `http://127.0.0.1:${port}`;
const {
  deps,
  app,
  http: api,
} = createTestApp({
  logger,
  env: {
    LOG_LEVEL: 'trace',
    PUBLIC_URL: apiUrl,
    MPESA_ENV: 'simulator',
    MPESA_BASE_URL: simulator.url,
    AT_DELIVERY_REPORT_TOKEN: SMS_TOKEN,
  },
  routes: [...allRoutes, ...testRoutes, failingQueryRoute],
});
// Daraja's callback must reach the API over HTTP, like in production.
const server = http.createServer((req, res) => void app.callback()(req, res));
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
afterAll(async () => {
  await simulator.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const secrets = new Map<string, string>();
const remember = (label: string, value: unknown) => {
  expect(typeof value, label).toBe('string');
  expect((value as string).length, label).toBeGreaterThan(5);
  secrets.set(label, value as string);
};

async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, what: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('log output', () => {
  it('never contains passwords, tokens, secrets or full phone numbers', async () => {
    const ownerPassword = `owner-pw-${randomUUID()}`;
    const wrongPassword = `wrong-pw-${randomUUID()}`;
    const email = uniqueEmail('logs');
    remember('owner password', ownerPassword);
    remember('wrong password', wrongPassword);
    remember('owner phone', '254711222333');
    remember('owner phone (local form)', '0711222333');

    // Register, login (right and wrong password), refresh.
    const registered = await api.post('/auth/register').send({
      businessName: 'Duka la Logs',
      name: 'Wanjiku Owner',
      email,
      password: ownerPassword,
      phone: '254711222333',
    });
    expect(registered.status, registered.text).toBe(201);
    const owner = registered.body as AuthBody;
    remember('register access token', owner.accessToken);
    remember('register refresh token', owner.refreshToken);
    const wrong = await api.post('/auth/login').send({ email, password: wrongPassword });
    expect(wrong.status).toBe(401);
    const login = await api.post('/auth/login').send({ email, password: ownerPassword });
    expect(login.status).toBe(200);
    remember('login access token', login.body.accessToken);
    remember('login refresh token', login.body.refreshToken);
    const refreshed = await api
      .post('/auth/refresh')
      .send({ refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    remember('refreshed access token', refreshed.body.accessToken);
    remember('refreshed refresh token', refreshed.body.refreshToken);
    const auth = `Bearer ${refreshed.body.accessToken as string}`;
    // A replayed (already rotated) refresh token: whatever the answer, no token is logged.
    const replay = await api.post('/auth/refresh').send({ refreshToken: login.body.refreshToken });
    expect(replay.status).toBeLessThan(500);
    if (replay.status === 200) {
      remember('replayed access token', replay.body.accessToken);
      remember('replayed refresh token', replay.body.refreshToken);
    }

    // Invite and accept.
    const cashierEmail = uniqueEmail('logs-cashier');
    const cashierPassword = `cashier-pw-${randomUUID()}`;
    remember('cashier password', cashierPassword);
    const invite = await api
      .post('/invites')
      .set('Authorization', auth)
      .send({ email: cashierEmail, role: 'cashier' });
    expect(invite.status, invite.text).toBe(201);
    const [inviteEmail] = await emailsTo(deps, 'invite', cashierEmail);
    const inviteToken = tokenOf(inviteEmail!.payload.acceptUrl);
    remember('invite token', inviteToken);
    const accepted = await api
      .post('/invites/accept')
      .send({ token: inviteToken, name: 'Akinyi Cashier', password: cashierPassword });
    expect(accepted.status, accepted.text).toBe(201);
    remember('cashier access token', accepted.body.accessToken);
    remember('cashier refresh token', accepted.body.refreshToken);

    // Forgot and reset password.
    expect((await api.post('/auth/password/forgot').send({ email })).status).toBe(202);
    const [resetEmail] = await emailsTo(deps, 'password-reset', email);
    const resetToken = tokenOf(resetEmail!.payload.resetUrl);
    remember('reset token', resetToken);
    const newPassword = `new-pw-${randomUUID()}`;
    remember('new password', newPassword);
    const reset = await api
      .post('/auth/password/reset')
      .send({ token: resetToken, password: newPassword });
    expect(reset.status, reset.text).toBeLessThan(300);
    const relogin = await api.post('/auth/login').send({ email, password: newPassword });
    expect(relogin.status).toBe(200);
    remember('relogin access token', relogin.body.accessToken);
    remember('relogin refresh token', relogin.body.refreshToken);
    const ownerAuth = `Bearer ${relogin.body.accessToken as string}`;

    // A sale with the customer's phone.
    remember('customer phone', '0722333444');
    remember('customer phone (international)', '254722333444');
    const product = await insertProduct(deps, owner.business.id, owner.user.id, { price: 10_000 });
    const sale = await api
      .post('/sales')
      .set('Authorization', ownerAuth)
      .send(saleBody([{ product }], { customerPhone: '0722333444' }));
    expect(sale.status, sale.text).toBe(201);

    // A customer account with a phone: a credit sale, a payment, an SMS receipt and a
    // reminder, and Africa's Talking's delivery report on the secret URL.
    remember('account phone', '0745666777');
    remember('account phone (international)', '254745666777');
    remember('SMS delivery report token', SMS_TOKEN);
    const customer = await api
      .post('/customers')
      .set('Authorization', ownerAuth)
      .send({ name: 'Logs Customer', phone: '0745666777' });
    expect(customer.status, customer.text).toBe(201);
    const creditSale = await api
      .post('/sales')
      .set('Authorization', ownerAuth)
      .send(
        saleBody([{ product }], {
          customerId: customer.body.id,
          payments: [{ method: 'credit', amount: 10_000 }],
        }),
      );
    expect(creditSale.status, creditSale.text).toBe(201);
    const receiptSms = await api
      .post(`/sales/${creditSale.body.id as string}/receipt/sms`)
      .set('Authorization', ownerAuth)
      .send({});
    expect(receiptSms.status, receiptSms.text).toBe(202);
    const reminder = await api
      .post(`/customers/${customer.body.id as string}/remind`)
      .set('Authorization', ownerAuth);
    expect(reminder.status, reminder.text).toBe(202);
    const report = await api
      .post(`/sms/delivery-reports/${SMS_TOKEN}`)
      .type('form')
      .send({ id: 'ATXid_logs', status: 'Success', phoneNumber: '+254745666777' });
    expect(report.status, report.text).toBe(200);

    // An STK push with a phone number; the simulator calls back on the secret URL.
    remember('payer phone', '254733444555');
    remember('payer phone (local form)', '0733444555');
    const push = await api
      .post('/bv-payments/sale-stk-push')
      .set('Authorization', ownerAuth)
      .set('Idempotency-Key', randomUUID())
      .send({ amount: 10_000, phoneNumber: '0733444555', reference: 'LOGS' });
    expect(push.status, push.text).toBe(202);
    const transaction = await waitFor(
      () =>
        [...simulator.transactions.values()].find((candidate) =>
          candidate.callbackUrl.startsWith(apiUrl),
        ),
      'the STK push to reach the simulator',
    );
    const callbackToken = transaction.callbackUrl.split('/').pop()!;
    remember('callback token', callbackToken);
    // And once more by hand, with a payload carrying the phone number in its metadata.
    const callback = await api.post(new URL(transaction.callbackUrl).pathname).send({
      Body: {
        stkCallback: {
          MerchantRequestID: 'm-1',
          CheckoutRequestID: transaction.checkoutRequestId,
          ResultCode: 0,
          ResultDesc: 'ok',
          CallbackMetadata: {
            Item: [
              { Name: 'Amount', Value: 100 },
              { Name: 'MpesaReceiptNumber', Value: 'QK12LOGS' },
              { Name: 'PhoneNumber', Value: 254733444555 },
            ],
          },
        },
      },
    });
    expect(callback.status, callback.text).toBe(200);

    // A webhook endpoint: its secret is in the response, never in a log.
    const webhook = await api
      .post('/webhooks')
      .set('Authorization', ownerAuth)
      .send({ url: 'https://example.com/hooks/logs', events: ['sale.created'] });
    expect(webhook.status, webhook.text).toBe(201);
    remember('webhook secret', webhook.body.secret);
    const rotated = await api
      .post(`/webhooks/${webhook.body.id as string}/rotate-secret`)
      .set('Authorization', ownerAuth);
    expect(rotated.status, rotated.text).toBe(200);
    remember('rotated webhook secret', rotated.body.secret);

    // Requests that fail with a 500: one throwing, one failing in SQL with secrets as parameters.
    expect((await api.get('/__test/boom')).status).toBe(500);
    const sqlToken = `sql-token-${randomUUID()}`;
    remember('token bound in failed SQL', sqlToken);
    remember('phone bound in failed SQL', '254744555666');
    const failed = await api
      .post('/__test/failing-query')
      .send({ phone: '254744555666', token: sqlToken });
    expect(failed.status).toBe(500);
    expect(failed.body.code).toBe('INTERNAL');

    // Wait for the simulator's own callback to have been received and logged.
    await waitFor(
      () =>
        captured.some(
          (line) =>
            line.includes('/bv-payments/mpesa/callback/') && line.includes('"statusCode":200'),
        )
          ? true
          : undefined,
      'the callback to be logged',
    );
    logger.flush();
    const text = captured.join('');
    // The capture is real: the requests above were logged, with their redacted URLs.
    expect(text).toContain('/auth/login');
    expect(text).toContain('/bv-payments/mpesa/callback/[redacted]');
    expect(text).toContain('request failed');
    // The failed statement is still logged for debugging, without its bound values.
    expect(text).toContain('no_such_table_for_log_test');
    expect(text).toContain('params: [redacted]');
    const leaks = [...secrets].filter(([, value]) => text.includes(value)).map(([label]) => label);
    expect(leaks).toEqual([]);
  });
});
