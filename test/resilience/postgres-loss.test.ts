import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool } from '../../src/db/client.js';
import { emailLog, webhookAttempts, webhookDeliveries } from '../../src/db/schema/index.js';
import { toProblem } from '../../src/http/problem.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually, sleep } from '../helpers/jobs.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/postgres-server.js';
import { insertProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';
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
  recordedSales,
  startApi,
  startWorker,
  startTills,
  tally,
  terminateBackends,
  type Answer,
  type ApiProcess,
  type Stack,
} from '../helpers/resilience.js';

// Research catalogue case 36: PostgreSQL lost under load. A till retries every failed sale
// with the same body and clientRequestId; the database must end with exactly its sales.

async function countBackends(stack: Stack, applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: stack.adminUrl });
  await admin.connect();
  try {
    const result = await admin.query<{ n: number }>(
      'select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = $2',
      [stack.databaseName, applicationName],
    );
    return result.rows[0]?.n ?? 0;
  } finally {
    await admin.end();
  }
}

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
let outage: {
  server: PrivatePostgres;
  stack: Stack;
  api: ApiProcess;
  worker: SpawnedProcess;
  receiver: Receiver;
  smtp: SmtpSink;
};
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
      const receiver = await startReceiver();
      undo.add(() => receiver.close());
      const smtp = await startSmtpSink();
      undo.add(() => smtp.close());
      const server = await startPrivatePostgres();
      undo.add(() => server.destroy());
      const stack = await createStack({
        adminUrl: server.adminUrl,
        // A delivery whose job failed on the missing database retries soon, not in 5 min.
        env: {
          OUTBOX_POLL_MS: '100',
          WEBHOOK_RETRY_SCHEDULE_MS: '500,1000,2000,4000,8000',
          SMTP_URL: smtp.url,
        },
      });
      undo.add(() => stack.close());
      const [api, worker] = await Promise.all([startApi(stack.env), startWorker(stack.env)]);
      undo.add(() => killHard(api.proc));
      undo.add(() => killHard(worker));
      outage = { server, stack, api, worker, receiver, smtp };
    })(),
  ]);
}, 180_000);
afterAll(() => undo.run());

describe('PostgreSQL connections killed mid-load (pg_terminate_backend)', () => {
  it('answers 503 retryable (never 500), recovers without a restart, and the retrying tills end with exactly their sales', async () => {
    const { stack, api } = shared;
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id, {
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

describe('a connection killed inside a transaction', () => {
  // Regression: a transaction's client is checked out of the pool, where pg-pool does not
  // listen for its 'error' event; the connection dying then crashed the whole process
  // (the worker died this way in the outage test below, between the relay's statements).
  it('fails that transaction with a retryable 503 and leaves the process and its pool working', async () => {
    const { stack } = shared;
    const pool = createPool({
      url: stack.databaseUrl,
      poolMax: 2,
      applicationName: 'resilience-tx',
    });
    try {
      const db = createDb(pool);
      const outcome = await db
        .transaction(async (tx) => {
          await tx.execute(sql`select 1`);
          // The backend dies while this transaction holds it, between two statements.
          expect(await terminateBackends(stack.adminUrl, stack.databaseName, 'resilience-tx')).toBe(
            1,
          );
          await eventually(
            async () => (await countBackends(stack, 'resilience-tx')) === 0,
            10_000,
            'the backend to be gone',
          );
          await sleep(200); // the client sees its socket close
          await tx.execute(sql`select 2`);
        })
        .then(
          () => 'committed',
          (error: unknown) => toProblem(error, 'test').body,
        );
      expect(outcome).toMatchObject({ status: 503, retryable: true });
      // The pool dropped the dead client and serves from a new connection.
      expect((await db.execute(sql`select 3 as n`)).rows).toEqual([{ n: 3 }]);
    } finally {
      await pool.end();
    }
  });
});

describe('a full PostgreSQL outage (private server stopped with -m immediate, then started)', () => {
  it('fails fast with 503 retryable and /ready 503 while it is down, is ready again after, and every retried sale exists once', async () => {
    const { server, stack, api, worker, receiver } = outage;
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

    // The worker lived through the outage too: every sale's webhook arrives, once.
    const saleIds = (await recordedSales(stack.deps, business.id)).map((sale) => sale.id);
    await eventually(
      () => receiver.counts().size >= saleIds.length,
      90_000,
      'every sale.created webhook',
    );
    await sleep(1_000); // a late duplicate would land now
    expect(worker.child.exitCode).toBeNull();
    expect(receiver.counts().size).toBe(saleIds.length);
    expect([...receiver.counts().values()].filter((count) => count !== 1)).toEqual([]);
    expect(receiver.received.every((entry) => entry.verified)).toBe(true);
    console.info('[resilience] full PostgreSQL outage', {
      ...report,
      webhooks: receiver.received.length,
    });
  }, 180_000);

  // Regression: a job that had POSTed (or mailed) and then could not record it because the
  // database was gone failed, and its retry POSTed again. The outcome is now recorded
  // through a short outage (jobs/record-effect.ts).
  it('records a webhook POSTed just before PostgreSQL went down once it is back, without POSTing it again', async () => {
    const { server, stack, api } = outage;
    const seen: string[] = [];
    let outageOver: Promise<void> | undefined;
    const downstream = http.createServer((req, res) => {
      seen.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => {
        if (seen.length > 1) return res.writeHead(200).end('ok');
        // The receiver takes the event; the database dies before the worker hears back.
        outageOver = (async () => {
          await server.stop();
          res.writeHead(200).end('ok');
          await sleep(2_000);
          await server.start();
        })();
      });
    });
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    try {
      const business = await createBusiness(stack.deps);
      const product = await insertProduct(stack.deps, business.id, business.manager.id);
      const port = (downstream.address() as AddressInfo).port;
      const endpoint = await call(`${api.base}/webhooks`, {
        body: { url: `http://127.0.0.1:${port}/hook`, events: ['sale.created'] },
        auth: business.owner.auth,
      });
      expect(endpoint).toMatchObject({ kind: 'response', status: 201 });
      const sale = await call(`${api.base}/sales`, {
        body: saleBody([{ product }]),
        auth: business.cashier.auth,
      });
      expect(sale).toMatchObject({ kind: 'response', status: 201 });

      await eventually(() => outageOver !== undefined, 60_000, 'the delivery to arrive');
      await outageOver;
      const delivery = await eventually(
        async () => {
          const [row] = await stack.deps.db
            .select({ id: webhookDeliveries.id, status: webhookDeliveries.status })
            .from(webhookDeliveries)
            .where(eq(webhookDeliveries.businessId, business.id));
          return row?.status === 'succeeded' ? row : undefined;
        },
        60_000,
        'the delivery recorded as succeeded',
      );
      await sleep(3_000); // the job's retries (500 ms, 1 s, …) would POST again by now
      expect(seen).toHaveLength(1);
      const attempts = await stack.deps.db
        .select({ status: webhookAttempts.status })
        .from(webhookAttempts)
        .where(eq(webhookAttempts.deliveryId, delivery.id));
      expect(attempts).toEqual([{ status: 'succeeded' }]);
    } finally {
      downstream.closeAllConnections();
      await new Promise<void>((resolve) => downstream.close(() => resolve()));
      await outageOver;
    }
  }, 120_000);

  it('records an email sent just before PostgreSQL went down once it is back, without sending it again', async () => {
    const { server, stack, api, smtp } = outage;
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id);
    const sale = await call(`${api.base}/sales`, {
      body: saleBody([{ product }]),
      auth: business.cashier.auth,
    });
    expect(sale).toMatchObject({ kind: 'response', status: 201 });
    const saleId = sale.kind === 'response' ? (sale.body.id as string) : '';
    const to = `receipt-${randomUUID()}@example.test`;
    let outageOver: Promise<void> | undefined;
    smtp.beforeAccept = async (message) => {
      if (!message.to.includes(to) || outageOver) return;
      // The mail server takes the message; the database dies before the worker hears back.
      await server.stop();
      outageOver = sleep(2_000).then(() => server.start());
    };
    try {
      const queued = await call(`${api.base}/sales/${saleId}/receipt/email`, {
        body: { email: to },
        auth: business.cashier.auth,
      });
      expect(queued).toMatchObject({ kind: 'response', status: 202 });
      await eventually(() => outageOver !== undefined, 60_000, 'the email to arrive');
      await outageOver;
      await eventually(
        async () => {
          const rows = await stack.deps.db
            .select({ status: emailLog.status })
            .from(emailLog)
            .where(eq(emailLog.to, to));
          return rows[0]?.status === 'sent';
        },
        60_000,
        'the email logged as sent',
      );
      await sleep(7_000); // the job's retry (5 s ± 30 %) would send it again by now
      expect(smtp.messages.filter((message) => message.to.includes(to))).toHaveLength(1);
    } finally {
      smtp.beforeAccept = undefined;
      await outageOver;
    }
  }, 120_000);
});
