import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startSmsSimulator } from '../../src/sms/simulator/simulator.js';
import { createTestApp } from '../helpers/app.js';
import { creditSaleBody, postCustomer } from '../helpers/customers.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually, useJobs } from '../helpers/jobs.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { freePort } from '../helpers/process.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';

/*
 * SMS end to end: the API queues (sms_messages + outbox), the worker's job really calls the
 * Africa's Talking simulator over HTTP, and the simulator's delivery report comes back over
 * HTTP to the API's secret delivery-report URL and settles the log.
 */

const token = randomBytes(24).toString('hex');
const port = await freePort();
const apiUrl = `http://127.0.0.1:${port}`;
const simulator = await startSmsSimulator({
  apiKey: 'test-at-key',
  senderIds: ['DUKA'],
  deliveryReportUrl: `${apiUrl}/sms/delivery-reports/${token}`,
  deliveryDelayMs: 300,
});
const env = {
  AT_USERNAME: 'sandbox',
  AT_API_KEY: 'test-at-key',
  AT_SENDER_ID: 'DUKA',
  AT_BASE_URL: simulator.url,
  AT_DELIVERY_REPORT_TOKEN: token,
};
const { http: api, deps, app } = createTestApp({ env });
const jobs = useJobs({ env });
const server = http.createServer((req, res) => void app.callback()(req, res));
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
afterAll(async () => {
  await simulator.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function shop() {
  const business = await createBusiness(deps);
  jobs.businessIds.add(business.id);
  const product = await insertProduct(deps, business.id, business.owner.id, { price: 25_000 });
  return { business, product };
}

const smsLog = async (auth: string) =>
  (await api.get('/sms').set('Authorization', auth)).body as {
    data: { id: string; status: string; phone: string; failureReason: string | null }[];
  };

describe('SMS receipts and reminders', () => {
  it('a credit sale, a reminder received by the simulator and delivered; a receipt to the customer', async () => {
    const { business, product } = await shop();
    const customer = await postCustomer(api, business.cashier, {
      name: 'Mama Njeri',
      phone: '0712 345 678',
    });
    const sale = await api
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(creditSaleBody(product, customer.id, 2));
    expect(sale.status, sale.text).toBe(201);

    const remind = await api
      .post(`/customers/${customer.id}/remind`)
      .set('Authorization', business.manager.auth);
    expect(remind.status, remind.text).toBe(202);
    expect(remind.body).toMatchObject({
      kind: 'reminder',
      status: 'queued',
      phone: '254712345678',
    });
    const receipt = await api
      .post(`/sales/${sale.body.id}/receipt/sms`)
      .set('Authorization', business.cashier.auth)
      .send({});
    expect(receipt.status, receipt.text).toBe(202);
    // Enqueued through the outbox (the job row carries the id only, no phone or text).
    const outbox = await outboxRowsOf(deps, business.id, { kind: 'job' });
    expect(outbox.map((row) => row.payload)).toEqual([
      { smsId: remind.body.id },
      { smsId: receipt.body.id },
    ]);

    const received = await eventually(
      () => {
        const mine = simulator.messages.filter((m) => m.to === '+254712345678');
        return mine.length === 2 ? mine : undefined;
      },
      20_000,
      'both SMS at the simulator',
    );
    expect(received.map((m) => m.from)).toEqual(['DUKA', 'DUKA']);
    const reminder = received.find((m) => m.message.includes('balance'))!;
    expect(reminder.message).toContain('Mama Njeri');
    expect(reminder.message).toContain('KES 500');
    expect(received.some((m) => m.message.includes(`receipt #${sale.body.number as number}`))).toBe(
      true,
    );

    const settled = await eventually(
      async () => {
        const log = await smsLog(business.owner.auth);
        return log.data.every((m) => m.status === 'delivered') && log.data.length === 2
          ? log
          : undefined;
      },
      20_000,
      'delivery reports',
    );
    expect(settled.data.map((m) => m.id)).toEqual([receipt.body.id, remind.body.id]);
  });

  it('a number the network fails is marked failed by the delivery report; a refused one by the job', async () => {
    const { business, product } = await shop();
    const sale = await api
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(saleBody([{ product }]));
    const absent = await api
      .post(`/sales/${sale.body.id}/receipt/sms`)
      .set('Authorization', business.cashier.auth)
      .send({ phone: '0799000002' });
    expect(absent.status).toBe(202);
    const blacklisted = await api
      .post(`/sales/${sale.body.id}/receipt/sms`)
      .set('Authorization', business.cashier.auth)
      .send({ phone: '0799000406' });
    expect(blacklisted.status).toBe(202);
    const log = await eventually(
      async () => {
        const page = await smsLog(business.owner.auth);
        return page.data.every((m) => m.status === 'failed') ? page : undefined;
      },
      20_000,
      'both failed',
    );
    const byId = new Map(log.data.map((m) => [m.id, m]));
    expect(byId.get(absent.body.id)?.failureReason).toBe('Failed: AbsentSubscriber');
    expect(byId.get(blacklisted.body.id)?.failureReason).toBeTruthy();
  });

  it('retries while Africa’s Talking is down, then sends', async () => {
    const { business, product } = await shop();
    const sale = await api
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(saleBody([{ product }]));
    simulator.setMode({ kind: 'down', status: 503 });
    const queued = await api
      .post(`/sales/${sale.body.id}/receipt/sms`)
      .set('Authorization', business.cashier.auth)
      .send({ phone: '0722000333' });
    expect(queued.status).toBe(202);
    await eventually(
      async () => {
        const page = await smsLog(business.owner.auth);
        const attempts = (page.data[0] as { attempts?: number } | undefined)?.attempts ?? 0;
        return attempts >= 1 ? true : undefined;
      },
      20_000,
      'a failed attempt',
    );
    simulator.setMode({ kind: 'normal' });
    const done = await eventually(
      async () => {
        const page = await smsLog(business.owner.auth);
        return page.data[0]?.status === 'delivered' ? page.data[0] : undefined;
      },
      30_000,
      'the retried SMS delivered',
    );
    expect((done as unknown as { attempts: number }).attempts).toBeGreaterThanOrEqual(2);
    expect(simulator.messages.filter((m) => m.to === '+254722000333')).toHaveLength(1);
  });

  it('refuses: no phone (422), erased customer or nothing owed (422), wrong role (403), other tenant (404)', async () => {
    const { business, product } = await shop();
    const other = await shop();
    const sale = await api
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(saleBody([{ product }]));
    const noPhone = await api
      .post(`/sales/${sale.body.id}/receipt/sms`)
      .set('Authorization', business.cashier.auth)
      .send({});
    expect(noPhone.status).toBe(422);
    const badPhone = await api
      .post(`/sales/${sale.body.id}/receipt/sms`)
      .set('Authorization', business.cashier.auth)
      .send({ phone: '12345' });
    expect(badPhone.status).toBe(400);
    const owesNothing = await postCustomer(api, business.cashier, { phone: '0711000111' });
    expect(
      (
        await api
          .post(`/customers/${owesNothing.id}/remind`)
          .set('Authorization', business.owner.auth)
      ).status,
    ).toBe(422);
    const noContact = await postCustomer(api, business.cashier);
    await api
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(creditSaleBody(product, noContact.id));
    expect(
      (
        await api
          .post(`/customers/${noContact.id}/remind`)
          .set('Authorization', business.owner.auth)
      ).status,
    ).toBe(422);
    // Cashiers send receipts but not reminders, and do not read the log.
    expect(
      (
        await api
          .post(`/customers/${noContact.id}/remind`)
          .set('Authorization', business.cashier.auth)
      ).status,
    ).toBe(403);
    expect((await api.get('/sms').set('Authorization', business.cashier.auth)).status).toBe(403);
    // Another business's sale or customer: 404, nothing queued.
    expect(
      (
        await api
          .post(`/sales/${sale.body.id}/receipt/sms`)
          .set('Authorization', other.business.owner.auth)
          .send({ phone: '0711000111' })
      ).status,
    ).toBe(404);
    expect(
      (
        await api
          .post(`/customers/${noContact.id}/remind`)
          .set('Authorization', other.business.owner.auth)
      ).status,
    ).toBe(404);
    expect((await smsLog(other.business.owner.auth)).data).toEqual([]);
    expect((await smsLog(business.owner.auth)).data).toEqual([]);
  });

  it('a delivery report with a wrong token is 404 and changes nothing', async () => {
    for (const path of ['/sms/delivery-reports/wrong-token', `/sms/delivery-reports/${token}x`]) {
      const response = await api
        .post(path)
        .type('form')
        .send({ id: 'ATXid_1', status: 'Success', phoneNumber: '+254712345678' });
      expect(response.status).toBe(404);
    }
    const unknown = await api
      .post(`/sms/delivery-reports/${token}`)
      .type('form')
      .send({ id: 'ATXid_unknown', status: 'Success', phoneNumber: '+254712345678' });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ received: false });
    const garbage = await api.post(`/sms/delivery-reports/${token}`).type('form').send({ x: '1' });
    expect(garbage.status).toBe(422);
  });
});
