import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema/index.js';
import { startOutboxRelay } from '../../src/jobs/outbox-relay.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, TEST_PASSWORD } from '../helpers/factories.js';
import { eventually, sleep, useJobs } from '../helpers/jobs.js';
import { freePort } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { eventsOf, mailsTo, uniqueEmail } from '../helpers/flows.js';

const deadRedisUrl = `redis://127.0.0.1:${await freePort()}`;
const smtp = await startSmtpSink();
const receivers: Receiver[] = [];
afterAll(async () => {
  await smtp.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});
// One API process with Redis, one whose Redis is gone: sales must work on both.
const { http, deps } = createTestApp({ env: { SMTP_URL: smtp.url } });
const down = createTestApp({ env: { SMTP_URL: smtp.url, REDIS_URL: deadRedisUrl } });
const jobs = useJobs({ env: { SMTP_URL: smtp.url } });

const pending = async (businessId: string, type: string) =>
  (
    await deps.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(eq(outbox.businessId, businessId), eq(outbox.type, type), isNull(outbox.dispatchedAt)),
      )
  ).length;

/** A till's retry: 409 IDEMPOTENCY_REQUEST_IN_PROGRESS means "the first is still running". */
async function retryInProgress<T extends { status: number }>(send: () => PromiseLike<T>) {
  for (;;) {
    const answer = await send();
    if (answer.status !== 409) return answer;
    await sleep(20);
  }
}

describe('the outbox across modules while Redis is away', () => {
  it('sales keep succeeding over HTTP and the outbox grows; once the relay reaches Redis every sale.created arrives exactly once', async () => {
    const business = await createBusiness(deps);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const endpoint = await http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({ url: receiver.url, events: ['sale.created'] });
    expect(endpoint.status).toBe(201);
    receiver.secret = endpoint.body.secret;
    const product = await insertProduct(deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 100,
    });

    // The worker's relay can only reach a dead Redis.
    const deadRelay = startOutboxRelay(jobs.deps, {
      redisUrl: deadRedisUrl,
      pollMs: 50,
      businessIds: new Set([business.id]),
    });
    try {
      // 12 sales, 4 at a time, on both API processes; each sent twice (a till retrying).
      const bodies = Array.from({ length: 12 }, () => saleBody([{ product }]));
      const created: string[] = [];
      for (let index = 0; index < bodies.length; index += 4) {
        const chunk = bodies.slice(index, index + 4);
        const answers = await Promise.all(
          chunk.flatMap((body, n) => {
            const api = n % 2 === 0 ? http : down.http;
            const post = () =>
              api.post('/sales').set('Authorization', business.cashier.auth).send(body);
            return [retryInProgress(post), retryInProgress(post)];
          }),
        );
        for (const answer of answers) {
          expect([200, 201]).toContain(answer.status);
          if (answer.status === 201) created.push(answer.body.id as string);
        }
      }
      // A batch sync while Redis is away, and its replay.
      const batch = { sales: [saleBody([{ product }]), saleBody([{ product }])] };
      const synced = await down.http
        .post('/sales/sync')
        .set('Authorization', business.cashier.auth)
        .send(batch);
      expect(synced.status).toBe(200);
      const replayed = await http
        .post('/sales/sync')
        .set('Authorization', business.cashier.auth)
        .send(batch);
      expect(replayed.body.results.map((r: { status: string }) => r.status)).toEqual([
        'duplicate',
        'duplicate',
      ]);
      for (const result of synced.body.results as { status: string; sale: { id: string } }[]) {
        expect(result.status).toBe('created');
        created.push(result.sale.id);
      }
      expect(new Set(created).size).toBe(14);

      // A receipt email queued meanwhile, through the Redis-less API too.
      const customer = uniqueEmail('customer');
      const receipt = await down.http
        .post(`/sales/${created[0]!}/receipt/email`)
        .set('Authorization', business.cashier.auth)
        .set('Idempotency-Key', randomUUID())
        .send({ email: customer });
      expect(receipt.status).toBe(202);

      // Auth and webhook endpoint management work without Redis too.
      const login = await down.http
        .post('/auth/login')
        .send({ email: business.owner.email, password: TEST_PASSWORD });
      expect(login.status).toBe(200);
      const second = await down.http
        .post('/webhooks')
        .set('Authorization', `Bearer ${login.body.accessToken}`)
        .send({ url: receiver.url.replace('/hook', '/other'), events: ['sale.voided'] });
      expect(second.status).toBe(201);

      await sleep(500);
      expect(await deadRelay.relayBatch()).toBe(0);
      expect(await pending(business.id, 'sale.created')).toBe(14);
      expect(await pending(business.id, 'sale-receipt')).toBe(1);
      expect(receiver.received).toHaveLength(0);
      expect(smtp.messages.some((m) => m.to.includes(customer))).toBe(false);

      // Redis answers again (the worker's relay): everything drains, each exactly once.
      await deadRelay.close();
      jobs.businessIds.add(business.id);
      await eventually(() => receiver.counts().size >= 14, 45_000, 'every sale.created webhook');
      await mailsTo(smtp, customer);
      await sleep(500); // a late duplicate would land now
      const counts = receiver.counts();
      expect(counts.size).toBe(14);
      expect([...counts.values()].every((count) => count === 1)).toBe(true);
      expect(receiver.received.every((entry) => entry.verified)).toBe(true);
      expect(
        eventsOf(receiver, 'sale.created')
          .map(({ event }) => event.data.id as string)
          .sort(),
      ).toEqual([...created].sort());
      expect(smtp.messages.filter((m) => m.to.includes(customer))).toHaveLength(1);
      expect(await pending(business.id, 'sale.created')).toBe(0);
    } finally {
      await deadRelay.close();
    }
  });
});
