import { randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { outbox } from '../../src/db/schema/index.js';
import { createTestApp, testEnv } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually, filePrefix, sleep } from '../helpers/jobs.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { spawnTs, type SpawnedProcess } from '../helpers/process.js';
import {
  bindTestQueue,
  exchangeExists,
  startPrivateRabbit,
  uniqueName,
  type PrivateRabbit,
} from '../helpers/rabbitmq.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { insertProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';

// The real worker process publishes every event of its database, so this file gets a
// database of its own, and a RabbitMQ node of its own that it stops for 20 s (the machine's
// shared broker is never stopped).
const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const databaseName = `bapi_amqp_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${databaseName}` }).toString();
const redisPrefix = filePrefix(testEnv().REDIS_PREFIX!);
const exchange = uniqueName('test.backend-api.events');
const queueName = uniqueName('test.all-events');

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(statement);
  await client.end();
}

await admin(`create database ${databaseName}`);
{
  const pool = createPool({ url: databaseUrl, poolMax: 2 });
  await runMigrations(pool);
  await pool.end();
}
const { http, deps } = createTestApp({
  env: { DATABASE_URL: databaseUrl, REDIS_PREFIX: redisPrefix },
});
let rabbit: PrivateRabbit;
let receiver: Receiver;
const workers: SpawnedProcess[] = [];

beforeAll(async () => {
  rabbit = await startPrivateRabbit();
  receiver = await startReceiver();
}, 120_000);

afterAll(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await receiver.close();
  await rabbit.close();
  await admin(`drop database if exists ${databaseName} with (force)`);
}, 60_000);

function startWorker(env: Record<string, string>): SpawnedProcess {
  const worker = spawnTs('src/worker.ts', {
    ...testEnv({ DATABASE_URL: databaseUrl, REDIS_PREFIX: redisPrefix }),
    LOG_LEVEL: 'info',
    AMQP_EXCHANGE: exchange,
    ...env,
  });
  workers.push(worker);
  return worker;
}

async function stopWorker(worker: SpawnedProcess) {
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toBe(0);
}

async function shopWithWebhook(): Promise<{ shop: TestBusiness; product: TestProduct }> {
  const shop = await createBusiness(deps);
  const created = await http
    .post('/webhooks')
    .set('Authorization', shop.owner.auth)
    .send({ url: receiver.url, events: ['sale.created'] });
  expect(created.status).toBe(201);
  const product = await insertProduct(deps, shop.id, shop.owner.id, {
    stockQuantity: 100_000,
    lowStockThreshold: 0,
  });
  return { shop, product };
}

async function sell(shop: TestBusiness, product: TestProduct, count: number, pauseMs = 0) {
  for (let index = 0; index < count; index++) {
    const response = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(saleBody([{ product }]));
    expect(response.status).toBe(201);
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

const webhooksOf = (count: number) => () => receiver.counts().size >= count;

async function unpublishedCount(shop: TestBusiness) {
  const rows = await deps.db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      and(eq(outbox.businessId, shop.id), eq(outbox.kind, 'event'), isNull(outbox.amqpPublishedAt)),
    );
  return rows.length;
}

describe('the worker publishing to RabbitMQ', () => {
  let first: { shop: TestBusiness; product: TestProduct };

  it('with AMQP_URL unset publishes nothing, and webhooks flow as ever', async () => {
    first = await shopWithWebhook();
    const worker = startWorker({ AMQP_URL: '' });
    await sell(first.shop, first.product, 5);
    await eventually(webhooksOf(5), 60_000, 'the webhooks');
    await stopWorker(worker);
    expect(worker.output()).toContain('worker started');
    expect(worker.output()).not.toContain('amqp publisher');
    // Every event was relayed (webhooks), none published: no exchange was even declared.
    const events = await outboxRowsOf(deps, first.shop.id, { kind: 'event' });
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(events.every((row) => row.dispatchedAt !== null && row.amqpPublishedAt === null)).toBe(
      true,
    );
    expect(await exchangeExists(rabbit.url, exchange)).toBe(false);
  }, 120_000);

  it('RabbitMQ stopped for 20 s during 200 sales: every event arrives, each message_id once after dedup; webhooks never wait', async () => {
    // A consumer's durable queue, bound before anything is published (no consumer yet).
    const setup = await bindTestQueue(rabbit.url, exchange, '#', {
      durable: true,
      name: queueName,
    });
    await setup.close();
    const { shop, product } = await shopWithWebhook();
    const worker = startWorker({ AMQP_URL: rabbit.url });
    await eventually(() => worker.output().includes('amqp publisher started'), 60_000, 'start');

    // 50 sales with the broker up…
    await sell(shop, product, 50);
    // …then the broker goes away for 20 s while 100 more are made.
    await rabbit.stop();
    const stoppedAt = Date.now();
    const webhooksBefore = receiver.counts().size;
    await sell(shop, product, 100, 50);
    // Webhooks keep flowing with the broker down: every sale so far was delivered…
    await eventually(webhooksOf(5 + 150), 60_000, 'webhooks during the outage');
    expect(receiver.counts().size).toBeGreaterThan(webhooksBefore);
    // …while the events meant for RabbitMQ wait in the outbox.
    expect(await unpublishedCount(shop)).toBeGreaterThan(0);
    // (Checked before the restart below: the broker was down all along.) Down ≥ 20 s in all.
    await sleep(Math.max(0, 20_000 - (Date.now() - stoppedAt)));
    await rabbit.start();
    // 50 more after its return.
    await sell(shop, product, 50);

    // Everything drains: the backlog (both businesses) flows within 30 s of the return.
    await eventually(
      async () => (await unpublishedCount(shop)) + (await unpublishedCount(first.shop)) === 0,
      45_000,
      'the backlog to drain',
    );
    const events = [
      ...(await outboxRowsOf(deps, first.shop.id, { kind: 'event' })),
      ...(await outboxRowsOf(deps, shop.id, { kind: 'event' })),
    ];
    expect(
      events.filter((row) => row.businessId === shop.id && row.type === 'sale.created'),
    ).toHaveLength(200);

    // The consumer reads its queue: at least once each, exactly once after dedup by message_id.
    const consumer = await bindTestQueue(rabbit.url, exchange, '#', {
      durable: true,
      name: queueName,
    });
    try {
      await eventually(
        () => new Set(consumer.received.map((message) => message.messageId)).size >= events.length,
        30_000,
        'every message',
      );
      await sleep(500); // late duplicates, if any, are counted too
      const ids = consumer.received.map((message) => message.messageId);
      const unique = new Set(ids);
      expect([...unique].sort()).toEqual(events.map((event) => event.messageId).sort());
      expect(ids.length).toBeGreaterThanOrEqual(events.length);
      // Every copy, duplicate or not, is the same persistent event.
      for (const message of consumer.received) {
        expect(message.properties.deliveryMode).toBe(2);
        expect(message.routingKey).toBe(message.body.type);
      }
      console.info(
        `amqp outage: ${events.length} events, ${ids.length} messages received, ${ids.length - unique.size} duplicates dropped by message_id`,
      );
    } finally {
      await consumer.close();
    }
    await stopWorker(worker);
    // One warning for the outage, not one per reconnect attempt; no password in the output.
    const warnings = worker
      .output()
      .split('\n')
      .filter((line) => line.includes('cannot publish'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);
    expect(worker.output()).toContain('publishing again');
    expect(worker.output()).not.toContain('guest:guest');
  }, 300_000);
});
