import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payments } from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { AccessTokens } from '../../src/modules/auth/access-token.js';
import { revokeSession } from '../../src/modules/auth/sessions.repo.js';
import { WEBHOOK_EVENTS } from '../../src/modules/webhooks/webhook-events.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually } from '../helpers/jobs.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { connectLive, openSocket, writeEvents, type LiveClient } from '../helpers/realtime.js';
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

// The socket's rules on a real API process and worker: what is refused and how it closes,
// when an open socket is closed, and who receives which event.

const MAX_PER_BUSINESS = 5;

describe('GET /realtime: auth, limits, slow readers and who sees what', () => {
  const undo = cleanups();
  let stack: Stack;
  let api: ApiProcess;
  let worker: SpawnedProcess;
  const sockets: LiveClient[] = [];
  const live = async (...args: Parameters<typeof connectLive>) => {
    const client = await connectLive(...args);
    sockets.push(client);
    return client;
  };
  const raw = async () => {
    const client = await openSocket(api.base);
    sockets.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await createStack({
      env: {
        REALTIME_MAX_CONNECTIONS_PER_BUSINESS: String(MAX_PER_BUSINESS),
        REALTIME_MAX_BUFFER_BYTES: '65536',
        REALTIME_AUTH_TIMEOUT_MS: '1500',
        REALTIME_POLL_MS: '500',
      },
    });
    undo.add(() => stack.close());
    [api, worker] = await Promise.all([startApi(stack.env), startWorker(stack.env)]);
    undo.add(() => killHard(api.proc));
    undo.add(() => killHard(worker));
  }, 180_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await undo.run();
  });

  describe('before auth', () => {
    it('closes with 1008 on a first message that is not JSON, not a known message, or not auth', async () => {
      const business = await createBusiness(stack.deps);
      const firsts: unknown[] = [
        'not json',
        { type: 'hello' },
        { type: 'auth' },
        { type: 'auth', accessToken: business.owner.token, extra: 1 },
        { type: 'resume', lastEventId: '0' },
        { type: 'auth', accessToken: 'x'.repeat(5_000) },
      ];
      for (const first of firsts) {
        const client = await raw();
        client.send(first);
        expect({ first, code: await client.closed }).toEqual({ first, code: 1008 });
      }
    });

    it('closes with 4401 for a token that is not valid, or when no auth arrives in time', async () => {
      const bad = await raw();
      bad.send({ type: 'auth', accessToken: 'not.a.jwt' });
      expect(await bad.closed).toBe(4401);
      const silent = await raw();
      expect(await silent.closed).toBe(4401);
    });

    it('ignores a token in the URL: without an auth message the socket is closed', async () => {
      const business = await createBusiness(stack.deps);
      const { WebSocket } = await import('ws');
      const ws = new WebSocket(
        `${api.base.replace('http', 'ws')}/realtime?accessToken=${business.owner.token}`,
      );
      const code = await new Promise<number>((resolve) => ws.once('close', resolve));
      expect(code).toBe(4401);
    });
  });

  describe('an open socket', () => {
    const shortToken = (business: TestBusiness, seconds: number) =>
      new AccessTokens({ ...stack.deps.config.auth, accessTokenTtlSeconds: seconds }).sign({
        userId: business.cashier.id,
        businessId: business.id,
        role: 'cashier',
        sessionId: business.cashier.sessionId,
      });

    it('is closed with 4401 when its token expires', async () => {
      const business = await createBusiness(stack.deps);
      const client = await live(api.base, await shortToken(business, 2));
      expect(await client.closed).toBe(4401);
    });

    it('stays open past the old expiry after re-auth with a refreshed token', async () => {
      const business = await createBusiness(stack.deps);
      const client = await live(api.base, await shortToken(business, 2));
      client.send({ type: 'auth', accessToken: business.cashier.token });
      await client.waitFor((message) => message.type === 'reauthenticated', 'reauthenticated');
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await writeEvents(stack.deps, business.id, 1);
      await client.waitFor((message) => message.type === 'product.updated', 'an event after');
      // Re-auth as somebody else is refused.
      client.send({ type: 'auth', accessToken: business.cashier2.token });
      expect(await client.closed).toBe(1008);
    });

    it('is closed with 4401 when its session is revoked', async () => {
      const business = await createBusiness(stack.deps);
      const client = await live(api.base, business.cashier.token);
      const bystander = await live(api.base, business.cashier2.token);
      await revokeSession(stack.deps.db, business.cashier.sessionId, 'logout', new Date());
      expect(await client.closed).toBe(4401);
      await writeEvents(stack.deps, business.id, 1);
      await bystander.waitFor((message) => message.type === 'product.updated', 'bystander event');
    });

    it('is closed with 4401 when the owner disables the user', async () => {
      const business = await createBusiness(stack.deps);
      const client = await live(api.base, business.cashier.token);
      const answer = await call(`${api.base}/users/${business.cashier.id}`, {
        method: 'PATCH',
        body: { status: 'disabled' },
        auth: business.owner.auth,
      });
      expect(answer).toMatchObject({ kind: 'response', status: 200 });
      expect(await client.closed).toBe(4401);
      // …and a new socket with the same token is refused.
      const again = await raw();
      again.send({ type: 'auth', accessToken: business.cashier.token });
      expect(await again.closed).toBe(4401);
    });
  });

  it(`refuses the business's socket beyond ${MAX_PER_BUSINESS} with 4429; other businesses are unaffected`, async () => {
    const [business, other] = await Promise.all([
      createBusiness(stack.deps),
      createBusiness(stack.deps),
    ]);
    for (let n = 0; n < MAX_PER_BUSINESS; n++) await live(api.base, business.cashier.token);
    const extra = await raw();
    extra.send({ type: 'auth', accessToken: business.owner.token });
    expect(await extra.closed).toBe(4429);
    await live(api.base, other.owner.token);
  });

  it('closes a socket that does not read with 1013; it resumes and gets everything', async () => {
    const business = await createBusiness(stack.deps);
    const slow = await live(api.base, business.owner.token);
    (slow.ws as unknown as { _socket: net.Socket })._socket.pause();
    // ~15 MB of events: far past the socket buffers of the kernel and the 64 KB bound.
    const filler = randomBytes(24_000).toString('hex');
    // Watched while the events are written: a socket closed for slowness that still does not
    // read is cut 5 s later (1006), so the client starts reading as soon as it is dropped.
    const writing = writeEvents(stack.deps, business.id, 300, {
      parallel: 4,
      payload: (n) => ({ n, filler }),
      lateCommits: false,
    });
    await eventually(
      async () => {
        const answer = await fetch(`${api.base}/metrics`);
        return /realtime_drops_total\{reason="slow_consumer"\} [1-9]/.test(await answer.text());
      },
      30_000,
      'the slow socket to be dropped',
    );
    (slow.ws as unknown as { _socket: net.Socket })._socket.resume();
    expect(await slow.closed).toBe(1013);
    await writing;
    const seen = slow.events();
    const resumed = await live(api.base, business.owner.token, {
      lastEventId: seen.at(-1)?.id ?? '0',
    });
    await eventually(
      () => seen.length + resumed.events().length >= 300,
      30_000,
      'the rest after resume',
    );
    const numbers = [...seen, ...resumed.events()].map((event) => (event.data as { n: number }).n);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, n) => n));
  }, 90_000);

  it('goes live only once its replay has drained: a live event behind a big replay does not close it', async () => {
    const business = await createBusiness(stack.deps);
    const filler = randomBytes(24_000).toString('hex');
    // ~12 MB: far past what the kernel's socket buffers take in for the paused reader.
    const BACKLOG = 250;
    await writeEvents(stack.deps, business.id, BACKLOG, {
      payload: (n) => ({ n, filler }),
      lateCommits: false,
    });
    const metric = async (pattern: RegExp) => {
      const text = await (await fetch(`${api.base}/metrics`)).text();
      return Number(pattern.exec(text)?.[1] ?? 0);
    };
    const replayed = /realtime_messages_total\{mode="replay"\} (\d+)/;
    // Once a reading socket has every backlog event, all are numbered and this process has
    // read past them, so the slow socket's resume below replays all of them.
    const watcher = await live(api.base, business.owner.token, { lastEventId: '0' });
    await eventually(() => watcher.events().length >= BACKLOG, 20_000, 'the backlog');
    const before = await metric(replayed);

    // A client on a slow link: most of the replay sits in the server's send buffer, unread.
    const slow = await raw();
    slow.send({ type: 'auth', accessToken: business.owner.token });
    await slow.waitFor((message) => message.type === 'ready', 'ready');
    const socket = (slow.ws as unknown as { _socket: net.Socket })._socket;
    socket.pause();
    slow.send({ type: 'resume', lastEventId: '0' });
    await eventually(
      async () => (await metric(replayed)) >= before + BACKLOG,
      20_000,
      'the replay',
    );
    // A live event while the replay is still buffered: the other socket proves it went out.
    await writeEvents(stack.deps, business.id, 1, { payload: () => ({ n: BACKLOG }) });
    await watcher.waitFor((message) => message.data?.n === BACKLOG, 'live');

    socket.resume();
    await slow.waitFor((message) => message.type === 'resumed', 'resumed', 30_000);
    await slow.waitFor((message) => message.data?.n === BACKLOG, 'live', 30_000);
    const numbers = slow.events().map((event) => (event.data as { n: number }).n);
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: BACKLOG + 1 }, (_, n) => n));
    expect(slow.ws.readyState).toBe(slow.ws.OPEN);
  }, 90_000);

  describe('who receives what (generated: every event type × every role, two businesses)', () => {
    type Seat = 'owner' | 'manager' | 'cashier' | 'cashier2';
    const SEATS: Seat[] = ['owner', 'manager', 'cashier', 'cashier2'];
    // Written out from API.md, not derived from the code under test: a cashier sees catalog,
    // stock, the shop's customers (debt book) and their own sales and payments; billing and
    // webhooks are the owner's.
    const mayReceive = (seat: Seat, type: string) => {
      const area = type.split('.')[0]!;
      if (seat === 'owner') return true;
      if (area === 'subscription' || area === 'webhook') return false;
      if (seat === 'manager') return true;
      if (area === 'product' || area === 'inventory' || area === 'customer') return true;
      // The sale and payment events below belong to `cashier`.
      if (area === 'sale' || area === 'payment') return seat === 'cashier';
      return false;
    };

    it('sends each socket exactly the events its role may read, of its own business only', async () => {
      const [mine, theirs] = await Promise.all([
        createBusiness(stack.deps),
        createBusiness(stack.deps),
      ]);
      const clients = new Map<string, LiveClient>();
      for (const business of [mine, theirs]) {
        for (const seat of SEATS) {
          clients.set(`${business.id}:${seat}`, await live(api.base, business[seat].token));
        }
      }
      const writeAll = async (business: TestBusiness) => {
        const paymentId = newId();
        await stack.deps.db.insert(payments).values({
          id: paymentId,
          businessId: business.id,
          purpose: 'sale',
          amount: 10_000,
          phoneNumber: '254700000000',
          callbackTokenHash: randomBytes(16).toString('hex'),
          createdBy: business.cashier.id,
        });
        for (const type of WEBHOOK_EVENTS) {
          const area = type.split('.')[0];
          const payload =
            area === 'sale'
              ? { id: newId(), cashierId: business.cashier.id, marker: type }
              : area === 'payment'
                ? { id: paymentId, marker: type }
                : { id: newId(), marker: type };
          await writeEvents(stack.deps, business.id, 1, { type, payload: () => payload });
        }
        // Everyone may read product events: once each socket has this, it has everything.
        await writeEvents(stack.deps, business.id, 1, {
          type: 'product.updated',
          payload: () => ({ marker: 'end' }),
        });
      };
      await writeAll(mine);
      await writeAll(theirs);
      for (const client of clients.values()) {
        await client.waitFor((message) => message.data?.marker === 'end', 'the end marker');
      }
      for (const business of [mine, theirs]) {
        for (const seat of SEATS) {
          const client = clients.get(`${business.id}:${seat}`)!;
          const received = client.events().filter((event) => event.data?.marker !== 'end');
          const expected = WEBHOOK_EVENTS.filter((type) => mayReceive(seat, type));
          expect({ seat, types: received.map((event) => event.type) }).toEqual({
            seat,
            types: expected,
          });
          // Never another business's anything.
          expect(
            received.filter(
              (event) =>
                (event.data as { cashierId?: string }).cashierId !== undefined &&
                (event.data as { cashierId?: string }).cashierId !== business.cashier.id,
            ),
          ).toEqual([]);
        }
      }
    }, 60_000);
  });
});
