import { Writable } from 'node:stream';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { outbox } from '../../src/db/schema/index.js';
import { startAmqpPublisher, type AmqpPublisher } from '../../src/jobs/amqp-publisher.js';
import { pruneOutbox } from '../../src/jobs/maintenance.job.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { newId } from '../../src/lib/ids.js';
import { createLogger } from '../../src/lib/logger.js';
import { metricsRegistry } from '../../src/lib/metrics.js';
import { createTestApp, testEnv } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually } from '../helpers/jobs.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { freePort } from '../helpers/process.js';
import {
  bindTestQueue,
  deleteExchange,
  exchangeExists,
  SHARED_AMQP_URL,
  uniqueName,
  withAmqp,
  type TestQueue,
} from '../helpers/rabbitmq.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';

// The machine's shared RabbitMQ, with an exchange and queues of this run's own (deleted
// after). Each publisher here only takes its businesses' events (tests share one database).
const exchange = uniqueName('test.backend-api.events');
const { http, deps } = createTestApp({
  env: { AMQP_URL: SHARED_AMQP_URL, AMQP_EXCHANGE: exchange },
});
const publishers: AmqpPublisher[] = [];
const queues: TestQueue[] = [];
afterAll(async () => {
  await Promise.all(publishers.map((publisher) => publisher.close()));
  await Promise.all(queues.map((queue) => queue.close()));
  await deleteExchange(SHARED_AMQP_URL, exchange);
});

function publisherFor(
  businesses: TestBusiness[],
  options: Parameters<typeof startAmqpPublisher>[1] = {},
) {
  const publisher = startAmqpPublisher(deps, {
    pollMs: 100,
    businessIds: new Set(businesses.map((business) => business.id)),
    ...options,
  });
  publishers.push(publisher);
  return publisher;
}

async function queueOf(pattern: string, args?: Record<string, unknown>) {
  const queue = await bindTestQueue(SHARED_AMQP_URL, exchange, pattern, { arguments: args });
  queues.push(queue);
  return queue;
}

const ofBusiness = (queue: TestQueue, business: TestBusiness) =>
  queue.received.filter((message) => message.body.businessId === business.id);

async function unpublished(business: TestBusiness) {
  return deps.db
    .select({ messageId: outbox.messageId })
    .from(outbox)
    .where(
      and(
        eq(outbox.businessId, business.id),
        eq(outbox.kind, 'event'),
        isNull(outbox.amqpPublishedAt),
      ),
    );
}

describe('the RabbitMQ publisher (shared broker, exchange of this run)', () => {
  it('publishes every event: routing key = type, persistent JSON, message_id = event id, body = webhook body + businessId', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const all = await queueOf('#');
    const salesOnly = await queueOf('sale.*');
    const product = await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 1000 });
    for (let index = 0; index < 3; index++) {
      const sale = await http
        .post('/sales')
        .set('Authorization', shop.cashier.auth)
        .send(saleBody([{ product }]));
      expect(sale.status).toBe(201);
    }
    // Two other event types, as their modules write them.
    await deps.db.transaction((tx) =>
      writeOutbox(tx, [
        {
          kind: 'event',
          type: 'product.updated',
          businessId: shop.id,
          payload: { id: product.id },
        },
        { kind: 'event', type: 'payment.failed', businessId: shop.id, payload: { id: newId() } },
        // Not an event: jobs and emails never go to RabbitMQ.
        { kind: 'email', type: 'invite', businessId: shop.id, payload: { to: 'x@example.com' } },
      ]),
    );
    publisherFor([shop]);

    const events = await outboxRowsOf(deps, shop.id, { kind: 'event' });
    expect(events.length).toBeGreaterThanOrEqual(5);
    await eventually(() => ofBusiness(all, shop).length >= events.length, 20_000, 'all events');
    await eventually(async () => (await unpublished(shop)).length === 0, 10_000, 'marked');

    const byId = new Map(ofBusiness(all, shop).map((message) => [message.messageId, message]));
    expect(ofBusiness(all, shop)).toHaveLength(events.length);
    for (const event of events) {
      const message = byId.get(event.messageId);
      expect(message, event.type).toBeDefined();
      expect(message!.exchange).toBe(exchange);
      expect(message!.routingKey).toBe(event.type);
      expect(message!.properties).toMatchObject({
        deliveryMode: 2, // persistent
        contentType: 'application/json',
        messageId: event.messageId,
        type: event.type,
        appId: 'backend-api',
      });
      // The webhook body ({type, timestamp, data}) plus businessId.
      expect(message!.body).toEqual({
        type: event.type,
        timestamp: event.createdAt.toISOString(),
        businessId: shop.id,
        data: JSON.parse(JSON.stringify(event.payload)),
      });
      expect(event.amqpPublishedAt).toBeNull(); // read before the confirm; marked since
    }
    const marked = await outboxRowsOf(deps, shop.id, { kind: 'event' });
    expect(marked.every((row) => row.amqpPublishedAt instanceof Date)).toBe(true);
    // The email row is no event: never marked, never published.
    const emails = await outboxRowsOf(deps, shop.id, { kind: 'email' });
    expect(emails.map((row) => row.amqpPublishedAt)).toEqual([null]);
    expect(all.received.some((message) => message.routingKey === 'invite')).toBe(false);

    // Routing: the `sale.*` queue got exactly the sale events.
    const saleEvents = events.filter((event) => event.type.startsWith('sale.'));
    expect(
      ofBusiness(salesOnly, shop)
        .map((message) => message.messageId)
        .sort(),
    ).toEqual(saleEvents.map((event) => event.messageId).sort());
    // Another business's events are not this publisher's (scope), so none were sent.
    expect(ofBusiness(all, other)).toEqual([]);

    const published = await metricsRegistry.getSingleMetric('amqp_events_published_total')!.get();
    expect(published.values[0]!.value).toBeGreaterThanOrEqual(events.length);
  });

  it('marks an event only once the broker confirmed it: nacked publishes stay unmarked and are sent again', async () => {
    const shop = await createBusiness(deps);
    // A queue that takes one message and makes the broker refuse (basic.nack) the rest.
    const pattern = `capped.${shop.id}`;
    const capped = await bindTestQueue(SHARED_AMQP_URL, exchange, pattern, {
      autoDelete: false,
      arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
    });
    await capped.close(); // nobody consumes: it stays full after one message
    const ids = [newId(), newId(), newId()];
    await deps.db.transaction((tx) =>
      writeOutbox(
        tx,
        ids.map((messageId) => ({
          kind: 'event' as const,
          type: pattern,
          businessId: shop.id,
          messageId,
          payload: { n: messageId },
        })),
      ),
    );
    const failuresBefore = await failureCount('publish');
    const publisher = publisherFor([shop], { backoffMs: { initial: 50, max: 200 } });
    // One confirmed (the queue had room), the others nacked: only the first is marked.
    await eventually(async () => (await unpublished(shop)).length === 2, 10_000, 'one marked');
    expect(await failureCount('publish')).toBeGreaterThan(failuresBefore);
    const rows = await outboxRowsOf(deps, shop.id);
    expect(rows.filter((row) => row.amqpPublishedAt !== null).map((row) => row.messageId)).toEqual([
      ids[0],
    ]);

    // The consumer drains the queue: the retries now get through, and every event is marked.
    const drain = await bindTestQueue(SHARED_AMQP_URL, exchange, pattern, {
      name: capped.name,
      autoDelete: false,
      arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
    });
    queues.push(drain);
    await eventually(async () => (await unpublished(shop)).length === 0, 20_000, 'all marked');
    const seen = new Set(drain.received.map((message) => message.messageId));
    expect(seen.has(ids[1]!)).toBe(true);
    expect(seen.has(ids[2]!)).toBe(true);
    await publisher.close();
    await deleteQueue(capped.name);
  });

  it('a broker that lost the exchange gets it back: the publisher re-declares it on reconnect and resends', async () => {
    const shop = await createBusiness(deps);
    const publisher = publisherFor([shop], { backoffMs: { initial: 50, max: 200 } });
    const first = newId();
    await deps.db.transaction((tx) =>
      writeOutbox(tx, {
        kind: 'event',
        type: 'sale.created',
        businessId: shop.id,
        messageId: first,
        payload: {},
      }),
    );
    await eventually(async () => (await unpublished(shop)).length === 0, 10_000, 'first marked');
    // The exchange disappears under the connected publisher (a broker reset, an operator).
    const failuresBefore = await failureCount();
    await deleteExchange(SHARED_AMQP_URL, exchange);
    expect(await exchangeExists(SHARED_AMQP_URL, exchange)).toBe(false);
    const second = newId();
    await deps.db.transaction((tx) =>
      writeOutbox(tx, {
        kind: 'event',
        type: 'sale.created',
        businessId: shop.id,
        messageId: second,
        payload: {},
      }),
    );
    // Publishing to a missing exchange closes the channel (404) before any confirm: the event
    // stays unmarked, the publisher reconnects, declares the exchange again and resends it.
    await eventually(async () => (await unpublished(shop)).length === 0, 20_000, 'second marked');
    expect(await exchangeExists(SHARED_AMQP_URL, exchange)).toBe(true);
    expect(await failureCount()).toBeGreaterThan(failuresBefore);
    // And it is routed again: a queue bound now gets the next event.
    const queue = await queueOf('sale.created');
    const third = newId();
    await deps.db.transaction((tx) =>
      writeOutbox(tx, {
        kind: 'event',
        type: 'sale.created',
        businessId: shop.id,
        messageId: third,
        payload: {},
      }),
    );
    await eventually(
      () => queue.received.some((message) => message.messageId === third),
      10_000,
      'third',
    );
    await publisher.close();
  });

  it('exports the backlog while the broker is unreachable, and logs without the password', async () => {
    const shop = await createBusiness(deps);
    await deps.db.transaction((tx) =>
      writeOutbox(tx, { kind: 'event', type: 'sale.created', businessId: shop.id, payload: {} }),
    );
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = loadConfig(testEnv({ LOG_LEVEL: 'info' }));
    const closedPort = await freePort(); // nothing listens there
    const secret = 's3cret-Pa55word';
    const publisher = startAmqpPublisher(
      { ...deps, logger: createLogger(config, {}, sink) },
      {
        url: `amqp://backend:${secret}@127.0.0.1:${closedPort}/%2F`,
        exchange,
        pollMs: 50,
        backoffMs: { initial: 50, max: 100 },
        businessIds: new Set([shop.id]),
      },
    );
    await eventually(
      () => lines.some((line) => line.includes('cannot publish')),
      10_000,
      'warning',
    );
    // Several attempts pass; the outage is said once.
    const failuresAfterFirst = await failureCount('connect');
    await eventually(
      async () => (await failureCount('connect')) >= failuresAfterFirst + 3,
      10_000,
      'retries',
    );
    await publisher.close();
    expect(lines.filter((line) => line.includes('cannot publish'))).toHaveLength(1);
    const text = lines.join('');
    expect(text).not.toContain(secret);
    expect(text).toContain('amqp://backend:***@127.0.0.1');
    expect(await unpublished(shop)).toHaveLength(1);

    // The API exports the backlog from PostgreSQL (AMQP_URL is set for this app).
    const backlog = await metricsRegistry.getSingleMetric('amqp_events_unpublished')!.get();
    expect(backlog.values[0]!.value).toBeGreaterThanOrEqual(1);
  });

  it('pruning keeps events RabbitMQ has not confirmed; with AMQP_URL unset they go like any row', async () => {
    const shop = await createBusiness(deps);
    const [kept, published] = [newId(), newId()];
    await deps.db.transaction((tx) =>
      writeOutbox(tx, [
        { kind: 'event', type: 'sale.created', businessId: shop.id, messageId: kept, payload: {} },
        {
          kind: 'event',
          type: 'sale.created',
          businessId: shop.id,
          messageId: published,
          payload: {},
        },
      ]),
    );
    const longAgo = new Date(Date.now() - 400 * 24 * 3600 * 1000);
    await deps.db
      .update(outbox)
      .set({ dispatchedAt: longAgo })
      .where(inArray(outbox.messageId, [kept, published]));
    await deps.db
      .update(outbox)
      .set({ amqpPublishedAt: longAgo })
      .where(eq(outbox.messageId, published));
    await pruneOutbox(deps);
    expect((await outboxRowsOf(deps, shop.id)).map((row) => row.messageId)).toEqual([kept]);

    const withoutAmqp = loadConfig(testEnv());
    expect(withoutAmqp.amqp.url).toBeUndefined();
    await pruneOutbox({ ...deps, config: withoutAmqp });
    expect(await outboxRowsOf(deps, shop.id)).toEqual([]);
  });
});

/** Failures counted by the publishers of this process, of one stage or all. */
async function failureCount(stage?: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('amqp_publish_failures_total')!.get();
  return metric.values
    .filter((value) => stage === undefined || value.labels.stage === stage)
    .reduce((sum, value) => sum + value.value, 0);
}

async function deleteQueue(name: string) {
  await withAmqp(SHARED_AMQP_URL, async (connection) => {
    const channel = await connection.createChannel();
    await channel.deleteQueue(name);
  });
}
