import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema/index.js';
import { createBusiness, TEST_PASSWORD } from '../helpers/factories.js';
import { eventually, sleep } from '../helpers/jobs.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { insertProduct } from '../helpers/sales-factories.js';
import {
  call,
  cleanups,
  createStack,
  expectExactlyTheseSales,
  killHard,
  recordedSales,
  startApi,
  startTills,
  startWorker,
  tally,
  type ApiProcess,
  type Stack,
} from '../helpers/resilience.js';

// Research catalogue case 37, with real processes: the API and the worker run on a private
// Redis that is SIGKILLed in the middle of a burst of sales and started again. (The relay's
// own rollback-and-retry is proven in test/flows/outbox-resilience.test.ts; this is the
// deployment-shaped version: API side, worker reconnecting, end-to-end delivery.)

describe('Redis killed during sales (API + worker processes on a private Redis)', () => {
  const undo = cleanups();
  let redis: PrivateRedis;
  let stack: Stack;
  let api: ApiProcess;
  let worker: SpawnedProcess;
  let receiver: Receiver;
  beforeAll(async () => {
    // Persistent like production's Redis (AOF): jobs relayed before the crash survive it.
    redis = await startPrivateRedis({ persistent: true });
    undo.add(() => redis.close());
    receiver = await startReceiver();
    undo.add(() => receiver.close());
    stack = await createStack({
      env: {
        REDIS_URL: redis.url,
        OUTBOX_POLL_MS: '100',
        LOGIN_MAX_FAILURES: '5',
        // A job cut off by the crash is picked up again within seconds, not 30 s.
        WORKER_LOCK_DURATION_MS: '5000',
        WORKER_STALLED_INTERVAL_MS: '2000',
      },
    });
    undo.add(() => stack.close());
    [api, worker] = await Promise.all([startApi(stack.env), startWorker(stack.env)]);
    undo.add(() => killHard(api.proc));
    undo.add(() => killHard(worker));
  }, 180_000);
  afterAll(() => undo.run());

  const undispatched = async (businessId: string) =>
    (
      await stack.deps.db
        .select({ id: outbox.id })
        .from(outbox)
        .where(
          and(
            eq(outbox.businessId, businessId),
            eq(outbox.type, 'sale.created'),
            isNull(outbox.dispatchedAt),
          ),
        )
    ).length;

  it('keeps answering 201 to every sale and logging in, grows the outbox, and delivers every sale.created exactly once after Redis returns', async () => {
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 10_000,
    });
    const endpoint = await call(`${api.base}/webhooks`, {
      body: { url: receiver.url, events: ['sale.created'] },
      auth: business.owner.auth,
    });
    expect(endpoint).toMatchObject({ kind: 'response', status: 201 });
    if (endpoint.kind === 'response') receiver.secret = endpoint.body.secret as string;

    const tills = startTills(api, business.cashier.auth, product, 3);
    await tills.progress(8);
    await eventually(() => receiver.counts().size > 0, 60_000, 'a delivery before the crash');

    await redis.kill();
    await tills.progress(15);
    // The events of sales made meanwhile wait in PostgreSQL.
    const waiting = await eventually(
      async () => {
        const count = await undispatched(business.id);
        return count >= 10 ? count : undefined;
      },
      60_000,
      'the outbox to grow',
    );

    // Auth works without Redis, and the login throttle falls back to per-process memory.
    const login = await call(`${api.base}/auth/login`, {
      body: { email: business.manager.email, password: TEST_PASSWORD },
    });
    expect(login).toMatchObject({ kind: 'response', status: 200 });
    const wrong = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      wrong.push(
        await call(`${api.base}/auth/login`, {
          body: { email: business.owner.email, password: 'not-the-password' },
        }),
      );
    }
    expect(wrong.map((answer) => answer.kind === 'response' && answer.status)).toEqual([
      401, 401, 401, 401, 401, 429,
    ]);
    const ready = await call(`${api.base}/ready`);
    expect(ready).toMatchObject({ kind: 'response', body: { checks: { redis: 'down' } } });

    await redis.start();
    await tills.progress(8);
    await tills.stop();

    const report = {
      sales: tills.intended.length,
      outboxWhileDown: waiting,
      failures: tally(tills.failures),
      finals: tally(tills.finals),
    };
    expect(tills.failures, JSON.stringify(report)).toEqual([]);
    expect(tally(tills.finals)).toEqual({ 201: tills.intended.length });
    await expectExactlyTheseSales(stack.deps, business.id, tills.intended, product);

    const saleIds = (await recordedSales(stack.deps, business.id)).map((sale) => sale.id);
    await eventually(
      () => receiver.counts().size >= saleIds.length,
      90_000,
      'every sale.created webhook',
    );
    await sleep(1_000); // a late duplicate would land now
    const deliveries = receiver.counts();
    expect(deliveries.size).toBe(saleIds.length);
    expect([...deliveries.values()].filter((count) => count !== 1)).toEqual([]);
    expect(receiver.received.every((entry) => entry.verified)).toBe(true);
    const delivered = receiver.received.map(
      (entry) => (JSON.parse(entry.body) as { data: { id: string } }).data.id,
    );
    expect(delivered.sort()).toEqual([...saleIds].sort());
    expect(await undispatched(business.id)).toBe(0);
    console.info('[resilience] Redis killed during sales', {
      ...report,
      webhooks: receiver.received.length,
    });
  }, 180_000);
});
