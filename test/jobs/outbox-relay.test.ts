import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { outbox, webhookDeliveries } from '../../src/db/schema/index.js';
import { startOutboxRelay } from '../../src/jobs/outbox-relay.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { pruneOutbox } from '../../src/jobs/maintenance.job.js';
import { queueDefinitions } from '../../src/jobs/registry.js';
import { defineJob, defineQueue } from '../../src/jobs/types.js';
import { z } from '../../src/lib/zod.js';
import { newId } from '../../src/lib/ids.js';
import { metricsRegistry } from '../../src/lib/metrics.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually, sleep, useJobs } from '../helpers/jobs.js';
import { freePort } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startPrivateRedis } from '../helpers/redis-server.js';

// This file's workers and relay use a Redis of their own, which a test kills and restarts.
const redis = await startPrivateRedis();
// Registered first, so it runs last: the workers close while their Redis still answers.
afterAll(() => redis.kill());
const probeJobs: { id: string | undefined; name: string; data: unknown }[] = [];
const pingJob = defineJob({
  queue: 'probe',
  name: 'ping',
  payload: z.unknown(),
  handle: (_payload, _deps, job) => {
    probeJobs.push({ id: job.id, name: job.name, data: job.data });
    return Promise.resolve();
  },
});
const probeQueue = defineQueue({ queue: 'probe' }, [pingJob]);
const { http, deps } = createTestApp();
const jobs = useJobs({
  env: { REDIS_URL: redis.url },
  workers: [...queueDefinitions, probeQueue],
});
const receivers: Receiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function businessWithEndpoints(
  count: number,
): Promise<{ business: TestBusiness; receivers: Receiver[] }> {
  const business = await createBusiness(deps);
  const list: Receiver[] = [];
  for (let index = 0; index < count; index++) {
    const receiver = await startReceiver();
    receivers.push(receiver);
    list.push(receiver);
    const created = await http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({ url: receiver.url, events: ['sale.created'] });
    expect(created.status).toBe(201);
    receiver.secret = created.body.secret;
  }
  return { business, receivers: list };
}

async function writeSales(business: TestBusiness, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId());
  // One transaction per sale, like the sales service does.
  for (const messageId of ids) {
    await deps.db.transaction((tx) =>
      writeOutbox(tx, {
        kind: 'event',
        type: 'sale.created',
        businessId: business.id,
        messageId,
        payload: { id: newId(), total: 100 },
      }),
    );
  }
  return ids;
}

/** Every receiver got exactly these webhook-ids, each exactly once, all verified. */
async function expectExactlyOnce(list: Receiver[], ids: string[]) {
  await eventually(
    () => list.every((receiver) => receiver.counts().size >= ids.length),
    45_000,
    'every webhook at every endpoint',
  );
  await sleep(500); // a late duplicate would land now
  for (const receiver of list) {
    const counts = receiver.counts();
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(receiver.received.every((entry) => entry.verified)).toBe(true);
  }
}

async function undispatched(ids: string[]) {
  const rows = await deps.db
    .select({ dispatchedAt: outbox.dispatchedAt })
    .from(outbox)
    .where(inArray(outbox.messageId, ids));
  return rows.filter((row) => row.dispatchedAt === null).length;
}

describe('outbox relay', () => {
  it('loses and duplicates nothing when Redis dies mid-run: 20 sales arrive exactly once per endpoint after it returns', async () => {
    const { business, receivers: list } = await businessWithEndpoints(2);
    jobs.businessIds.add(business.id);
    const before = await writeSales(business, 1);
    await expectExactlyOnce(list, before);

    await redis.kill();
    const during = await writeSales(business, 20);
    await sleep(1_500);
    expect(await undispatched(during)).toBe(20); // kept in PostgreSQL while Redis is away
    expect(list.map((receiver) => receiver.received.length)).toEqual([1, 1]);

    await redis.start(); // empty: whatever Redis held is gone
    await expectExactlyOnce(list, [...before, ...during]);
    expect(await undispatched(during)).toBe(0);
  });

  it('with the relay pointed at a dead Redis port nothing moves; a working relay then delivers all 20 once', async () => {
    const { business, receivers: list } = await businessWithEndpoints(2);
    const scope = new Set([business.id]);
    const deadRelay = startOutboxRelay(jobs.deps, {
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
      pollMs: 50,
      businessIds: scope,
    });
    const ids = await writeSales(business, 20);
    await sleep(1_500);
    expect(await undispatched(ids)).toBe(20);
    expect(await deadRelay.relayBatch()).toBe(0);

    const lag = await metricsRegistry.getSingleMetric('outbox_pending_messages')!.get();
    expect(lag.values[0]!.value).toBeGreaterThanOrEqual(20);
    const age = await metricsRegistry.getSingleMetric('outbox_oldest_pending_age_seconds')!.get();
    expect(age.values[0]!.value).toBeGreaterThan(0);

    await deadRelay.close();
    jobs.businessIds.add(business.id);
    await expectExactlyOnce(list, ids);
  });

  it('two relays draining at once never hand the same row over twice', async () => {
    const { business, receivers: list } = await businessWithEndpoints(2);
    const ids = await writeSales(business, 60);
    const scope = new Set([business.id]);
    const relays = [1, 2].map(() =>
      startOutboxRelay(jobs.deps, {
        pollMs: 10,
        batchSize: 3,
        businessIds: scope,
        redisUrl: redis.url,
      }),
    );
    // Extra concurrent batches on top of both loops.
    await Promise.all(relays.flatMap((relay) => [relay.relayBatch(), relay.relayBatch()]));
    try {
      await expectExactlyOnce(list, ids);
    } finally {
      await Promise.all(relays.map((relay) => relay.close()));
    }
    const deliveries = await deps.db
      .select({ count: sql<number>`count(*)::int` })
      .from(webhookDeliveries)
      .where(inArray(webhookDeliveries.messageId, ids));
    expect(deliveries[0]!.count).toBe(120);
    // Each row was claimed and marked by exactly one relay batch.
    const rows = await deps.db
      .select({ attempts: outbox.attempts })
      .from(outbox)
      .where(inArray(outbox.messageId, ids));
    expect(rows.map((row) => row.attempts)).toEqual(Array(60).fill(1));
  });

  it("routes kind 'job' to the queue named before ':' with job id = message id; a re-relay adds nothing", async () => {
    const business = await createBusiness(deps);
    jobs.businessIds.add(business.id);
    const messageId = newId();
    await writeOutbox(deps.db, {
      kind: 'job',
      type: 'probe:ping',
      businessId: business.id,
      messageId,
      payload: { checkoutRequestId: 'ws_CO_1' },
    });
    const job = await eventually(() => probeJobs.find((entry) => entry.id === messageId));
    expect(job).toEqual({ id: messageId, name: 'ping', data: { checkoutRequestId: 'ws_CO_1' } });

    // As if the relay crashed after enqueueing but before its commit.
    await deps.db.update(outbox).set({ dispatchedAt: null }).where(eq(outbox.messageId, messageId));
    await eventually(async () => (await undispatched([messageId])) === 0);
    await sleep(300);
    expect(probeJobs.filter((entry) => entry.id === messageId)).toHaveLength(1);
  });

  it('writing the same messageId twice records the work once', async () => {
    const business = await createBusiness(deps);
    const messageId = newId();
    const message = {
      kind: 'job' as const,
      type: 'probe:ping',
      businessId: business.id,
      messageId,
      payload: {},
    };
    await writeOutbox(deps.db, message);
    await writeOutbox(deps.db, message);
    const rows = await deps.db.select().from(outbox).where(eq(outbox.messageId, messageId));
    expect(rows).toHaveLength(1);
  });

  it('prunes dispatched rows past the retention, and only those', async () => {
    const business = await createBusiness(deps);
    const old = newId();
    const recent = newId();
    const pending = newId();
    for (const messageId of [old, recent, pending])
      await writeOutbox(deps.db, {
        kind: 'job',
        type: 'none:x',
        businessId: business.id,
        messageId,
        payload: {},
      });
    const day = 24 * 3600 * 1000;
    await deps.db
      .update(outbox)
      .set({ dispatchedAt: new Date(Date.now() - 8 * day) })
      .where(eq(outbox.messageId, old));
    await deps.db
      .update(outbox)
      .set({ dispatchedAt: new Date(Date.now() - 6 * day) })
      .where(eq(outbox.messageId, recent));
    expect(await pruneOutbox(deps)).toBeGreaterThanOrEqual(1);
    const left = await deps.db
      .select({ messageId: outbox.messageId })
      .from(outbox)
      .where(inArray(outbox.messageId, [old, recent, pending]));
    expect(left.map((row) => row.messageId).sort()).toEqual([recent, pending].sort());
  });
});
