import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusiness, TEST_PASSWORD } from '../helpers/factories.js';
import { eventually, sleep } from '../helpers/jobs.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
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

// Scale-out: two API processes and two worker processes on one database and one Redis.
// Everything that must hold "once" is decided by PostgreSQL or Redis, never by one process.

describe('two API processes and two workers on one database and Redis', () => {
  const undo = cleanups();
  let stack: Stack;
  let apis: ApiProcess[];
  let workers: SpawnedProcess[];
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    undo.add(() => receiver.close());
    stack = await createStack({ env: { OUTBOX_POLL_MS: '100', LOGIN_MAX_FAILURES: '5' } });
    undo.add(() => stack.close());
    const started = await Promise.all([
      startApi(stack.env),
      startApi(stack.env),
      startWorker(stack.env),
      startWorker(stack.env),
    ]);
    apis = [started[0], started[1]] as ApiProcess[];
    workers = [started[2], started[3]] as SpawnedProcess[];
    for (const api of apis) undo.add(() => killHard(api.proc));
    for (const worker of workers) undo.add(() => killHard(worker));
  }, 180_000);
  afterAll(() => undo.run());

  it('records one sale for identical requests split across both APIs, numbers every sale without gaps, and delivers each webhook once', async () => {
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 10_000,
    });
    const endpoint = await call(`${apis[0]!.base}/webhooks`, {
      body: { url: receiver.url, events: ['sale.created'] },
      auth: business.owner.auth,
    });
    expect(endpoint).toMatchObject({ kind: 'response', status: 201 });
    if (endpoint.kind === 'response') receiver.secret = endpoint.body.secret as string;

    // 16 copies of one sale at once, half through each API (a till retrying over a balancer).
    const twin = saleBody([{ product }]);
    const copies = await Promise.all(
      Array.from({ length: 16 }, (_, n) =>
        call(`${apis[n % 2]!.base}/sales`, { body: twin, auth: business.cashier.auth }),
      ),
    );
    expect(tally(copies)).toEqual({ 201: 1, 200: 15 });
    const twinIds = new Set(copies.map((answer) => answer.kind === 'response' && answer.body.id));
    expect(twinIds.size).toBe(1);

    // Four tills spread over both APIs, while the numbers are handed out.
    const tills = startTills(apis, business.cashier.auth, product, 4);
    await tills.progress(40);
    await tills.stop();
    expect(tills.failures).toEqual([]);
    const intended = [twin.clientRequestId as string, ...tills.intended];
    await expectExactlyTheseSales(stack.deps, business.id, intended, product);

    // Two relays and two BullMQ workers: every sale.created arrives exactly once.
    const saleIds = (await recordedSales(stack.deps, business.id)).map((sale) => sale.id);
    await eventually(
      () => receiver.counts().size >= saleIds.length,
      90_000,
      'every sale.created webhook',
    );
    await sleep(1_000); // a late duplicate would land now
    const counts = receiver.counts();
    expect(counts.size).toBe(saleIds.length);
    expect([...counts.values()].filter((count) => count !== 1)).toEqual([]);
    expect(receiver.received.every((entry) => entry.verified)).toBe(true);
    const delivered = receiver.received.map(
      (entry) => (JSON.parse(entry.body) as { data: { id: string } }).data.id,
    );
    expect(delivered.sort()).toEqual([...saleIds].sort());
    console.info('[resilience] two APIs + two workers', {
      twinCopies: tally(copies),
      sales: intended.length,
      webhooks: receiver.received.length,
    });
  }, 150_000);

  it('shares the login throttle across both APIs (Redis), so alternating between them does not reset it', async () => {
    const business = await createBusiness(stack.deps);
    const attempt = (n: number, password: string) =>
      call(`${apis[n % 2]!.base}/auth/login`, {
        body: { email: business.owner.email, password },
      });
    const statuses: (number | false)[] = [];
    for (let n = 0; n < 6; n++) {
      const answer = await attempt(n, 'not-the-password');
      statuses.push(answer.kind === 'response' && answer.status);
    }
    // Five failures in all (three on one API, two on the other), then the sixth is refused.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const rightPassword = await attempt(0, TEST_PASSWORD);
    expect(rightPassword).toMatchObject({ kind: 'response', status: 429 });
  });
});
