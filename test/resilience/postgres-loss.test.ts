import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusiness } from '../helpers/factories.js';
import { eventually, sleep } from '../helpers/jobs.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/postgres-server.js';
import { createProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';
import {
  API_APPLICATION_NAME,
  call,
  cleanups,
  createStack,
  expectExactlyTheseSales,
  expectRetryableFailure,
  isReady,
  killHard,
  sellUntilRecorded,
  startApi,
  startTills,
  tally,
  terminateBackends,
  type Answer,
  type ApiProcess,
  type Stack,
} from './harness.js';

// Research catalogue case 36: PostgreSQL lost under load. A till retries every failed sale
// with the same body and clientRequestId; the database must end with exactly its sales.

/**
 * An offline till syncing batches of 5 through POST /sales/sync: a sale rejected with a
 * retryable problem (and a batch that failed as a whole) is sent again in the next batch.
 */
function startSyncTill(api: ApiProcess, auth: string, product: TestProduct) {
  const intended: string[] = [];
  const failures: Answer[] = [];
  const rejections: unknown[] = [];
  const state = { stopping: false };
  const done = (async () => {
    while (!state.stopping) {
      let pending = Array.from({ length: 5 }, () => saleBody([{ product }]));
      intended.push(...pending.map((body) => body.clientRequestId as string));
      while (pending.length > 0) {
        const answer = await call(`${api.base}/sales/sync`, { body: { sales: pending }, auth });
        if (answer.kind === 'response' && answer.status === 200) {
          const results = answer.body.results as { status: string; error?: unknown }[];
          rejections.push(...results.flatMap((result) => (result.error ? [result.error] : [])));
          pending = pending.filter((_, index) => results[index]?.status === 'rejected');
        } else {
          failures.push(answer);
          if (answer.kind === 'response' && answer.status < 500) return;
        }
        if (pending.length > 0) await sleep(100);
      }
    }
  })();
  return {
    intended,
    failures,
    rejections,
    stop: async () => {
      state.stopping = true;
      await done;
    },
  };
}

// Both cases' processes start together: start-up dominates the time of this file.
const undo = cleanups();
let shared: { stack: Stack; api: ApiProcess };
let outage: { server: PrivatePostgres; stack: Stack; api: ApiProcess };
beforeAll(async () => {
  await Promise.all([
    (async () => {
      const stack = await createStack();
      undo.add(() => stack.close());
      const api = await startApi(stack.env);
      undo.add(() => killHard(api.proc));
      shared = { stack, api };
    })(),
    (async () => {
      const server = await startPrivatePostgres();
      undo.add(() => server.destroy());
      const stack = await createStack({ adminUrl: server.adminUrl });
      undo.add(() => stack.close());
      const api = await startApi(stack.env);
      undo.add(() => killHard(api.proc));
      outage = { server, stack, api };
    })(),
  ]);
}, 180_000);
afterAll(() => undo.run());

describe('PostgreSQL connections killed mid-load (pg_terminate_backend)', () => {
  it('answers 503 retryable (never 500), recovers without a restart, and the retrying tills end with exactly their sales', async () => {
    const { stack, api } = shared;
    const business = await createBusiness(stack.deps);
    const product = await createProduct(stack.deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 10_000,
    });
    const tills = startTills(api, business.cashier.auth, product, 4);
    const offline = startSyncTill(api, business.cashier2.auth, product);

    // Three waves of kills, each while sales are in flight, then more sales on the healed pool.
    let killed = 0;
    for (let wave = 0; wave < 3; wave++) {
      await tills.progress(10);
      for (let shot = 0; shot < 6; shot++) {
        killed += await terminateBackends(stack.adminUrl, stack.databaseName, API_APPLICATION_NAME);
        await sleep(60);
      }
    }
    await tills.progress(10);
    await Promise.all([tills.stop(), offline.stop()]);

    const report = {
      killed,
      sales: tills.intended.length,
      failures: tally(tills.failures),
      finals: tally(tills.finals),
      synced: offline.intended.length,
      syncFailures: tally(offline.failures),
      syncRejections: offline.rejections.length,
    };
    expect(killed, JSON.stringify(report)).toBeGreaterThan(0);
    for (const failure of tills.failures) expectRetryableFailure(failure);
    for (const final of tills.finals)
      expect([200, 201]).toContain(final.kind === 'response' && final.status);
    for (const failure of offline.failures) expectRetryableFailure(failure);
    for (const problem of offline.rejections)
      expect(problem).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', retryable: true });

    // Same process, same pid: the pool replaced its dead connections by itself.
    expect(api.proc.child.exitCode).toBeNull();
    await eventually(() => isReady(api.base), 30_000, '/ready 200 after the kills');
    await expectExactlyTheseSales(
      stack.deps,
      business.id,
      [...tills.intended, ...offline.intended],
      product,
    );
    console.info('[resilience] pg_terminate_backend under load', report);
  }, 150_000);
});

describe('a full PostgreSQL outage (private server stopped with -m immediate, then started)', () => {
  it('fails fast with 503 retryable and /ready 503 while it is down, is ready again after, and every retried sale exists once', async () => {
    const { server, stack, api } = outage;
    const business = await createBusiness(stack.deps);
    const product = await createProduct(stack.deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 10_000,
    });
    const tills = startTills(api, business.cashier.auth, product, 3);
    await tills.progress(9);

    await server.stop();
    // A sale sent now gets a quick answer, not a hang: 503 with retryable.
    const probe = saleBody([{ product }]);
    const refused = await call(`${api.base}/sales`, {
      body: probe,
      auth: business.cashier.auth,
      timeoutMs: 20_000,
    });
    expectRetryableFailure(refused);
    expect(refused.kind).toBe('response');
    const notReady = await call(`${api.base}/ready`, { timeoutMs: 20_000 });
    expect(notReady).toMatchObject({
      kind: 'response',
      status: 503,
      body: { checks: { database: 'down' } },
    });
    const failuresBeforeRestart = tills.failures.length;
    await sleep(1_500); // the tills keep retrying into the outage

    await server.start();
    await eventually(() => isReady(api.base), 60_000, '/ready 200 after PostgreSQL returns');
    const failures: Answer[] = [refused];
    const retried = await sellUntilRecorded(
      `${api.base}/sales`,
      business.cashier.auth,
      probe,
      failures,
    );
    expect(retried.status).toBe(201);
    await tills.progress(10);
    await tills.stop();

    const report = {
      sales: tills.intended.length + 1,
      failuresBeforeRestart,
      failures: tally(tills.failures),
      finals: tally(tills.finals),
    };
    expect(tills.failures.length, JSON.stringify(report)).toBeGreaterThan(0);
    for (const failure of tills.failures) expectRetryableFailure(failure);
    for (const final of tills.finals)
      expect([200, 201]).toContain(final.kind === 'response' && final.status);
    expect(api.proc.child.exitCode).toBeNull();
    await expectExactlyTheseSales(
      stack.deps,
      business.id,
      [...tills.intended, probe.clientRequestId as string],
      product,
    );
    console.info('[resilience] full PostgreSQL outage', report);
  }, 180_000);
});
