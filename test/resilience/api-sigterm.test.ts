import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusiness } from '../helpers/factories.js';
import { eventually } from '../helpers/jobs.js';
import { freePort, spawnTs } from '../helpers/process.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import {
  call,
  cleanups,
  createStack,
  expectExactlyTheseSales,
  killHard,
  recordedSales,
  startApi,
  tally,
  type Answer,
  type Stack,
} from '../helpers/resilience.js';

// Research catalogue case 39, under load: a deploy sends SIGTERM while tills are selling.
// Requests already accepted finish; nothing is half-written; the process exits 0.

describe('SIGTERM to the API under sales load', () => {
  const undo = cleanups();
  let stack: Stack;
  beforeAll(async () => {
    stack = await createStack({ env: { LOG_LEVEL: 'warn' } });
    undo.add(() => stack.close());
  }, 60_000);
  afterAll(() => undo.run());

  it('finishes every accepted sale, writes none it did not answer 201, refuses new connections and exits 0', async () => {
    const api = await startApi(stack.env);
    undo.add(() => killHard(api.proc));
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 10_000,
    });

    // Half the tills reuse one keep-alive connection, half open a new one per sale. Each sale
    // is sent once: after SIGTERM the answer (or its absence) is what the test checks.
    const answers = new Map<string, Answer>();
    let signalled = false;
    let answeredAfterSignal = 0;
    const till = async (keepAlive: boolean) => {
      const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
      try {
        for (;;) {
          const body = saleBody([{ product }]);
          const sentBeforeSignal = !signalled;
          const answer = await call(`${api.base}/sales`, {
            body,
            auth: business.cashier.auth,
            agent,
          });
          answers.set(body.clientRequestId as string, answer);
          if (signalled && sentBeforeSignal && answer.kind === 'response') answeredAfterSignal += 1;
          // The server is gone for this till once it cannot connect any more.
          if (answer.kind === 'socket' && signalled) return;
          if (answer.kind === 'response' && answer.status !== 201) return;
        }
      } finally {
        if (agent) agent.destroy();
      }
    };
    const tills = Promise.all([true, false, true, false, true, false, true, false].map(till));

    await eventually(
      async () => (await recordedSales(stack.deps, business.id)).length >= 20,
      60_000,
      'sales before SIGTERM',
    );
    signalled = true;
    api.proc.child.kill('SIGTERM');
    const exitCode = await api.proc.exited;
    await tills;

    const byOutcome = tally([...answers.values()]);
    const report = { sent: answers.size, answeredAfterSignal, outcomes: byOutcome };
    expect(exitCode, JSON.stringify(report)).toBe(0);
    expect(api.proc.output()).not.toContain('were cut');

    const created = [...answers].filter(
      ([, answer]) => answer.kind === 'response' && answer.status === 201,
    );
    for (const [, answer] of answers) {
      if (answer.kind === 'response')
        expect([201, 503], JSON.stringify(report)).toContain(answer.status);
      else expect(answer.code, JSON.stringify(report)).not.toBe('HANG');
    }
    // Requests in flight when the signal came were served, not cut.
    expect(answeredAfterSignal, JSON.stringify(report)).toBeGreaterThan(0);
    // Every 201 is in the database and nothing else is: a sale whose request got a socket
    // error instead of an answer was never accepted.
    await expectExactlyTheseSales(
      stack.deps,
      business.id,
      created.map(([clientRequestId]) => clientRequestId),
      product,
    );
    // After the exit nobody answers.
    expect(await call(`${api.base}/health`)).toMatchObject({ kind: 'socket' });
    console.info('[resilience] SIGTERM under load', report);
  }, 150_000);

  it('drains and exits 0 on a SIGTERM that arrives while it is still starting', async () => {
    const port = await freePort();
    const proc = spawnTs('src/server.ts', {
      ...stack.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MIGRATE_ON_START: 'true',
    });
    undo.add(() => killHard(proc));
    // Signalled the moment the log says the migrations are done: the server is about to
    // listen, and /health will answer before the realtime hub has started.
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        if (!chunk.toString().includes('migrations applied')) return;
        proc.child.stdout!.off('data', onData);
        proc.child.kill('SIGTERM');
        resolve();
      };
      proc.child.stdout!.on('data', onData);
    });
    expect(await proc.exited, proc.output()).toBe(0);
    expect(proc.output()).toContain('shutdown complete');
  }, 150_000);
});
