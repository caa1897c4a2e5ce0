import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookAttempts, webhookDeliveries } from '../../src/db/schema/index.js';
import { createWebhook } from '../../src/modules/webhooks/webhooks.service.js';
import { CreateSaleBody } from '../../src/modules/sales/sales.schemas.js';
import { createSale } from '../../src/modules/sales/sales.service.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually, sleep } from '../helpers/jobs.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { verifies, type ReceivedWebhook } from '../helpers/receiver.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { cleanups, createStack, killHard, startWorker, type Stack } from '../helpers/resilience.js';

const run = promisify(execFile);

// Research catalogue case 42: a worker dies (SIGKILL, OOM) in the middle of a webhook
// delivery. Its job lock expires, the other worker's stalled check puts the job back, and
// the delivery completes once: the receiver sees one answered request per webhook-id.

interface HeldRequest extends ReceivedWebhook {
  /** The sender's port, to find which worker process holds the connection. */
  remotePort: number;
  /** The connection closed before this receiver answered (its sender died). */
  aborted: boolean;
}

/** A webhook receiver that holds the very first request it gets without answering. */
async function startHoldingReceiver() {
  const requests: HeldRequest[] = [];
  let secret = '';
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const entry: HeldRequest = {
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        headers: req.headers,
        body,
        answered: 0,
        remotePort: req.socket.remotePort ?? 0,
        aborted: false,
      };
      entry.verified = verifies(secret, entry, body);
      requests.push(entry);
      if (requests.length === 1) {
        res.once('close', () => {
          if (!entry.answered) entry.aborted = true;
        });
        return; // held: the sender waits (up to its timeout) for an answer that never comes
      }
      entry.answered = 200;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    setSecret: (value: string) => (secret = value),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The pid of the process on this machine whose TCP connection uses local port `port`. */
async function pidOfLocalPort(port: number): Promise<number | undefined> {
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`]);
  const match = /pid=(\d+)/.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

describe('a worker SIGKILLed in the middle of a webhook delivery', () => {
  const undo = cleanups();
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startHoldingReceiver>>;
  let workers: SpawnedProcess[];
  beforeAll(async () => {
    receiver = await startHoldingReceiver();
    undo.add(() => receiver.close());
    stack = await createStack({
      env: {
        OUTBOX_POLL_MS: '100',
        // Operational knobs (README): a dead worker's job is retried within about 3 s.
        WORKER_LOCK_DURATION_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        // Longer than the hold, so the held attempt ends by the kill, not by a timeout.
        WEBHOOK_TIMEOUT_MS: '60000',
      },
    });
    undo.add(() => stack.close());
    workers = await Promise.all([startWorker(stack.env), startWorker(stack.env)]);
    for (const worker of workers) undo.add(() => killHard(worker));
  }, 180_000);
  afterAll(() => undo.run());

  it('lets the other worker complete the job after the lock expires; the effect happens once', async () => {
    const business = await createBusiness(stack.deps);
    const endpoint = await createWebhook(stack.deps, business.owner.caller, {
      url: receiver.url,
      events: ['sale.created'],
    });
    receiver.setSecret(endpoint.secret);
    const product = await insertProduct(stack.deps, business.id, business.manager.id);
    const sell = async () =>
      (
        await createSale(
          stack.deps,
          business.cashier.caller,
          CreateSaleBody.parse(saleBody([{ product }])),
        )
      ).sale.id;
    const saleIds = [await sell()];

    // The delivery reaches the receiver and is held there; find the worker that sent it.
    await eventually(() => receiver.requests.length >= 1, 60_000, 'the held delivery');
    const held = receiver.requests[0]!;
    const holderPid = await pidOfLocalPort(held.remotePort);
    const holder = workers.find((worker) => worker.child.pid === holderPid);
    const survivor = workers.find((worker) => worker !== holder);
    expect(holder, `pid ${holderPid} holds the delivery`).toBeDefined();

    holder!.child.kill('SIGKILL');
    expect(await holder!.exited).toBeNull(); // killed by the signal, no exit code
    await eventually(() => held.aborted, 10_000, 'the held connection to drop');
    // Work keeps flowing through the survivor meanwhile.
    saleIds.push(await sell(), await sell());

    // The survivor's stalled check takes the job over; this time it is answered.
    const answered = () => receiver.requests.filter((request) => request.answered === 200);
    await eventually(() => answered().length >= 3, 60_000, 'every delivery answered');
    await sleep(1_500); // a duplicate would arrive now
    const answeredIds = answered().map((request) => request.id);
    expect(answeredIds).toHaveLength(3);
    expect(new Set(answeredIds).size).toBe(3);
    expect(answeredIds).toContain(held.id);
    expect(receiver.requests).toHaveLength(4); // the held one, its retry, two more
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
    expect(survivor!.child.exitCode).toBeNull();

    // The database records one successful attempt per delivery and nothing else.
    const deliveries = await stack.deps.db
      .select({ id: webhookDeliveries.id, status: webhookDeliveries.status })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, endpoint.id));
    expect(deliveries.map((delivery) => delivery.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    for (const delivery of deliveries) {
      const attempts = await stack.deps.db
        .select({ status: webhookAttempts.status })
        .from(webhookAttempts)
        .where(eq(webhookAttempts.deliveryId, delivery.id));
      expect(attempts).toEqual([{ status: 'succeeded' }]);
    }
    const received = receiver.requests.map(
      (request) => (JSON.parse(request.body) as { data: { id: string } }).data.id,
    );
    expect([...new Set(received)].sort()).toEqual([...saleIds].sort());
    console.info('[resilience] worker SIGKILL mid-delivery', {
      requests: receiver.requests.length,
      aborted: receiver.requests.filter((request) => request.aborted).length,
      answered: answeredIds.length,
    });
  }, 150_000);
});
