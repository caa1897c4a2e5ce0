import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { subscribe, type LiveEvent, type WebSocketConstructor } from '../../sdk/src/realtime.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually } from '../helpers/jobs.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { connectLive, numbersOf, writeEvents, type LiveClient } from '../helpers/realtime.js';
import {
  call,
  cleanups,
  createStack,
  killHard,
  startApi,
  startWorker,
  type ApiProcess,
  type Stack,
} from '../helpers/resilience.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';

// Live updates across processes: two API processes and one worker (the relay) on one
// database and one Redis. The relay's safety-net poll is left at its 5 s default and the
// APIs' at 30 s, so events arriving promptly prove the NOTIFY → relay → Redis → API path.

describe('GET /realtime across two API processes and a worker', () => {
  const undo = cleanups();
  let stack: Stack;
  let api1: ApiProcess;
  let api2: ApiProcess;
  let worker: SpawnedProcess;
  const sockets: LiveClient[] = [];
  const live = async (...args: Parameters<typeof connectLive>) => {
    const client = await connectLive(...args);
    sockets.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await createStack({ env: { REALTIME_POLL_MS: '30000' } });
    undo.add(() => stack.close());
    [api1, api2, worker] = await Promise.all([
      startApi(stack.env),
      startApi(stack.env),
      startWorker(stack.env),
    ]);
    undo.add(() => killHard(api1.proc));
    undo.add(() => killHard(api2.proc));
    undo.add(() => killHard(worker));
  }, 180_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await undo.run();
  });

  it('delivers a sale recorded through API 2 to a socket on API 1', async () => {
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 100,
    });
    const owner = await live(api1.base, business.owner.token);
    const sale = await call(`${api2.base}/sales`, {
      body: saleBody([{ product }]),
      auth: business.cashier.auth,
    });
    expect(sale).toMatchObject({ kind: 'response', status: 201 });
    const saleId = sale.kind === 'response' ? (sale.body.id as string) : '';
    const event = await owner.waitFor(
      (message) => message.type === 'sale.created',
      'the sale.created event',
    );
    // The webhook body: type, timestamp, data = the Sale resource; plus the stream's id.
    expect(event).toMatchObject({ type: 'sale.created', data: { id: saleId } });
    expect(event.id).toMatch(/^[1-9][0-9]*$/);
    expect(Number.isNaN(Date.parse(event.timestamp!))).toBe(false);
  });

  it('resumes after a disconnect during a burst of 500 events with exactly the missed ones, in order', async () => {
    const business = await createBusiness(stack.deps);
    // The reference stays connected to API 1 for the whole burst.
    const reference = await live(api1.base, business.owner.token);
    const dropped = await live(api2.base, business.manager.token);
    const burst = writeEvents(stack.deps, business.id, 500, { parallel: 8 });
    await dropped.waitFor(() => dropped.events().length >= 120, '120 events before the cut');
    dropped.ws.terminate();
    await dropped.closed;
    const before = dropped.events();
    const lastSeen = before.at(-1)!.id!;
    // Reconnect to the other process mid-burst and resume from the last id seen.
    const resumed = await live(api1.base, business.manager.token, { lastEventId: lastSeen });
    await burst;
    await eventually(() => reference.events().length >= 500, 30_000, 'all 500 on the reference');
    const all = reference.events();
    const missed = all.slice(all.findIndex((event) => event.id === lastSeen) + 1);
    await eventually(
      () => resumed.events().length >= missed.length,
      30_000,
      'the resumed socket to catch up',
    );
    // Exactly the missed ones, in the stream's order: no gap, no duplicate.
    expect(resumed.events().map((event) => event.id)).toEqual(missed.map((event) => event.id));
    expect([...numbersOf(before), ...numbersOf(resumed.events())].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 500 }, (_, n) => n),
    );
    // Ids increase strictly on every socket.
    for (const list of [all, before, resumed.events()]) {
      const ids = list.map((event) => Number(event.id));
      expect(ids.every((id, index) => index === 0 || id > ids[index - 1]!)).toBe(true);
    }
    console.info('[realtime] resume', {
      beforeCut: before.length,
      replayedAndLive: resumed.events().length,
    });
  }, 120_000);

  it('closes sockets with 1012 on SIGTERM; the client resumes on the other process without losing events', async () => {
    const business = await createBusiness(stack.deps);
    const client = await live(api2.base, business.owner.token);
    // The SDK on Node 20 (the `ws` WebSocket), behind a "balancer" that sends its first
    // connection to API 2 and every later one to API 1.
    const received: LiveEvent[] = [];
    const statuses: string[] = [];
    let connections = 0;
    const sdk = subscribe({
      baseUrl: () => (connections++ === 0 ? api2.base : api1.base),
      getToken: () => business.manager.token,
      onEvent: (event) => received.push(event),
      onStatus: (status) => statuses.push(status),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      backoff: { initialMs: 100, maxMs: 1_000 },
    });
    await eventually(() => statuses.includes('live'), 20_000, 'the SDK to be live');
    await writeEvents(stack.deps, business.id, 5, { payload: (n) => ({ n }) });
    await eventually(() => client.events().length >= 5, 20_000, 'the first five');
    const lastSeen = client.events().at(-1)!.id!;
    api2.proc.child.kill('SIGTERM');
    expect(await client.closed).toBe(1012);
    // Events written while the client is away.
    await writeEvents(stack.deps, business.id, 5, { payload: (n) => ({ n: n + 5 }) });
    const again = await live(api1.base, business.owner.token, { lastEventId: lastSeen });
    await writeEvents(stack.deps, business.id, 5, { payload: (n) => ({ n: n + 10 }) });
    await eventually(() => again.events().length >= 10, 20_000, 'the missed and the new');
    expect(numbersOf([...client.events(), ...again.events()]).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 15 }, (_, n) => n),
    );
    expect(await api2.proc.exited).toBe(0);
    // The SDK reconnected to API 1 by itself and resumed: all fifteen, once each, in the
    // stream's order (commit order: the writers run in parallel).
    await eventually(() => received.length >= 15, 20_000, 'the SDK to get all fifteen');
    sdk.close();
    expect(received.map((event) => (event.data as { n: number }).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 15 }, (_, n) => n),
    );
    const ids = received.map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(15);
    expect(statuses.filter((status) => status === 'live').length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
