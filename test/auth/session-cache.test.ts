import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mpesaCallbackInbox, payments, users } from '../../src/db/schema/index.js';
import { closeDeps, createDeps, type AppDeps } from '../../src/deps.js';
import { newId } from '../../src/lib/ids.js';
import { applyCallback } from '../../src/modules/payments/payments.job.js';
import { createLogger } from '../../src/lib/logger.js';
import { AuthCache } from '../../src/modules/auth/auth-cache.js';
import { announceAuthChanges, authChangesChannel } from '../../src/modules/auth/auth-changes.js';
import type { AuthState } from '../../src/modules/auth/auth-lookup.repo.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { bearer, movableClock, registerOwner, type AuthBody } from '../helpers/auth.js';
import { createBusiness } from '../helpers/factories.js';

// Two "API processes" (own pools, own caches, own subscribers) caching the session check for
// a minute: only the Redis announcement can make a change visible on the other one in time.
const CACHED = { AUTH_CACHE_TTL_MS: '60000' };
const a = createTestApp({ env: CACHED });
const b = createTestApp({ env: CACHED });
// The test default: no cache, every request reads PostgreSQL.
const uncached = createTestApp();
// The worker process: publishes changes, keeps no cache.
const worker = {
  deps: createDeps({
    config: a.config,
    logger: createLogger(a.config),
    databaseUrl: a.config.database.url!,
  }),
};
afterAll(() => closeDeps(worker.deps));
const time = movableClock();
const timed = createTestApp({ env: CACHED, clock: time.clock });

/** A pending subscription payment of `businessId` and Daraja's success callback for it, stored. */
async function storeSubscriptionCallback(deps: AppDeps, businessId: string, ownerId: string) {
  const paymentId = newId();
  const checkoutRequestId = `ws_CO_${randomUUID()}`;
  const amount = 150_000;
  const phoneNumber = '254700000001';
  await deps.db.insert(payments).values({
    id: paymentId,
    businessId,
    purpose: 'subscription',
    plan: 'monthly',
    amount,
    phoneNumber,
    checkoutRequestId,
    callbackTokenHash: randomBytes(16).toString('hex'),
    createdBy: ownerId,
  });
  const inboxId = newId();
  await deps.db.insert(mpesaCallbackInbox).values({
    id: inboxId,
    paymentId,
    rawPayload: {
      Body: {
        stkCallback: {
          MerchantRequestID: 'm-1',
          CheckoutRequestID: checkoutRequestId,
          ResultCode: 0,
          ResultDesc: 'The service request is processed successfully.',
          CallbackMetadata: {
            Item: [
              { Name: 'Amount', Value: amount / 100 },
              { Name: 'MpesaReceiptNumber', Value: `R${randomUUID().slice(0, 9).toUpperCase()}` },
              { Name: 'PhoneNumber', Value: Number(phoneNumber) },
            ],
          },
        },
      },
    },
  });
  return inboxId;
}

/** What findAuthState() gives for an active user's live session. */
function validState(): AuthState {
  return {
    role: 'owner',
    locationIds: [],
    userStatus: 'active',
    sessionRevokedAt: null,
    sessionExpiresAt: new Date(Date.now() + 3_600_000),
    subscriptionPlan: null,
    currentPeriodEnd: new Date(Date.now() + 3_600_000),
    timezone: 'Africa/Nairobi',
  };
}

/** The bound every process must meet: a committed change applies everywhere within it. */
const PROPAGATION_MS = 1_000;

/**
 * Polls `request` until it answers `status` or PROPAGATION_MS has passed since the change
 * returned; the last answer is asserted by the caller.
 */
async function statusWithin(request: () => Promise<{ status: number }>, status: number) {
  const deadline = Date.now() + PROPAGATION_MS;
  for (;;) {
    const answer = (await request()).status;
    if (answer === status || Date.now() >= deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function untilCurrent(context: TestContext) {
  const deadline = Date.now() + 10_000;
  while (!context.deps.authCache?.isCurrent()) {
    if (Date.now() > deadline) throw new Error('the auth cache never subscribed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  await Promise.all([untilCurrent(a), untilCurrent(b), untilCurrent(timed)]);
});

const me = (context: TestContext, auth: string) => () =>
  context.http.get('/me').set('Authorization', auth);

describe('the session cache (AUTH_CACHE_TTL_MS > 0)', () => {
  it('is off by default in tests and on where configured', () => {
    expect(uncached.deps.authCache).toBeUndefined();
    expect(a.deps.authCache).toBeDefined();
  });

  it('serves a session from memory until a change is announced', async () => {
    const shop = await createBusiness(a.deps);
    expect((await me(b, shop.cashier.auth)()).status).toBe(200);
    // Written behind the API's back (nothing announced): the cached check still passes…
    await b.deps.db.update(users).set({ status: 'disabled' }).where(eq(users.id, shop.cashier.id));
    expect((await me(b, shop.cashier.auth)()).status).toBe(200);
    // …until someone announces it (as every use case that writes these rows does).
    await announceAuthChanges(a.deps, [{ kind: 'user', id: shop.cashier.id }]);
    expect(await statusWithin(me(b, shop.cashier.auth), 401)).toBe(401);
  });

  it('refuses a user disabled through the API on the other process within 1 s', async () => {
    const shop = await createBusiness(a.deps);
    expect((await me(a, shop.cashier.auth)()).status).toBe(200);
    expect((await me(b, shop.cashier.auth)()).status).toBe(200);
    const disabled = await a.http
      .patch(`/users/${shop.cashier.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ status: 'disabled' });
    expect(disabled.status).toBe(200);
    // The process that made the change dropped its entry before answering.
    expect((await me(a, shop.cashier.auth)()).status).toBe(401);
    expect(await statusWithin(me(b, shop.cashier.auth), 401)).toBe(401);
  });

  it('refuses a logged-out session on the other process within 1 s', async () => {
    const owner = await registerOwner(a.http);
    expect((await me(b, bearer(owner))()).status).toBe(200);
    const logout = await a.http.post('/auth/logout').send({ refreshToken: owner.refreshToken });
    expect(logout.status).toBe(204);
    expect((await me(a, bearer(owner))()).status).toBe(401);
    expect(await statusWithin(me(b, bearer(owner)), 401)).toBe(401);
  });

  it("applies a role change to the other process's cached sessions within 1 s", async () => {
    const shop = await createBusiness(a.deps);
    const movements = () =>
      b.http.get('/inventory/movements').set('Authorization', shop.manager.auth);
    expect((await movements()).status).toBe(200);
    const demoted = await a.http
      .patch(`/users/${shop.manager.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ role: 'cashier' });
    expect(demoted.status).toBe(200);
    expect(await statusWithin(movements, 403)).toBe(403);
  });

  it("drops the business's cached sessions when its timezone changes through the API", async () => {
    const shop = await createBusiness(a.deps);
    const movements = () =>
      b.http.get('/inventory/movements').set('Authorization', shop.manager.auth);
    expect((await movements()).status).toBe(200);
    // Written behind the API's back: still cached as a manager…
    await b.deps.db.update(users).set({ role: 'cashier' }).where(eq(users.id, shop.manager.id));
    expect((await movements()).status).toBe(200);
    // …until the business changes (every session of it carries the timezone): re-read.
    const patched = await a.http
      .patch('/business')
      .set('Authorization', shop.owner.auth)
      .send({ timezone: 'Africa/Kampala' });
    expect(patched.status).toBe(200);
    expect(await statusWithin(movements, 403)).toBe(403);
  });

  it('lets writes through within 1 s of a subscription payment settled by the worker', async () => {
    const shop = await createBusiness(a.deps, {
      subscriptionPlan: 'monthly',
      // Past the 3 days of grace: expired.
      currentPeriodEnd: new Date(Date.now() - 4 * 86_400_000),
    });
    const write = () =>
      b.http
        .patch(`/users/${shop.cashier.id}`)
        .set('Authorization', shop.owner.auth)
        .send({ role: 'cashier' });
    expect((await write()).status).toBe(402);
    const inboxId = await storeSubscriptionCallback(a.deps, shop.id, shop.owner.id);
    // The worker: its deps keep no cache, its settlement announces the renewed business.
    expect(worker.deps.authCache).toBeUndefined();
    expect(await applyCallback(worker.deps, inboxId)).toMatchObject({ outcome: 'applied' });
    expect(await statusWithin(write, 200)).toBe(200);
  });

  it('refuses a cached session at once when its expiry passes', async () => {
    const owner = await registerOwner(timed.http);
    expect((await me(timed, bearer(owner))()).status).toBe(200);
    expect(timed.deps.authCache?.size).toBe(1);
    // Past the session's 30 days (the access token is still good: its expiry is real time).
    time.advance(timed.config.auth.refreshTokenTtlSeconds * 1000 + 1_000);
    expect((await me(timed, bearer(owner))()).status).toBe(401);
  });

  it('keeps a session a refresh extended past the expiry it was cached with', async () => {
    const owner = await registerOwner(timed.http);
    expect((await me(timed, bearer(owner))()).status).toBe(200);
    // A minute before the cached expiry, the refresh extends the session (not announced)…
    time.advance(timed.config.auth.refreshTokenTtlSeconds * 1000 - 60_000);
    const refreshed = await timed.http
      .post('/auth/refresh')
      .send({ refreshToken: owner.refreshToken });
    expect(refreshed.status).toBe(200);
    // …so past the cached expiry the entry is read again, and the session is still good.
    time.advance(120_000);
    expect((await me(timed, bearer(refreshed.body as AuthBody))()).status).toBe(200);
  });
});

describe('the session cache without the TTL (AUTH_CACHE_TTL_MS=0)', () => {
  it('reads PostgreSQL on every request: a direct change applies at once', async () => {
    const shop = await createBusiness(uncached.deps);
    expect((await me(uncached, shop.cashier.auth)()).status).toBe(200);
    await uncached.deps.db
      .update(users)
      .set({ status: 'disabled' })
      .where(eq(users.id, shop.cashier.id));
    expect((await me(uncached, shop.cashier.auth)()).status).toBe(401);
  });
});

describe('the session cache while its Redis subscriber is down', () => {
  const logger = createLogger(a.config);
  const state = validState();
  const ids = { userId: 'u1', businessId: 'b1', sessionId: 's1' };
  // Nothing listens on port 1: the subscriber never connects.
  const cache = new AuthCache({
    ttlMs: 60_000,
    maxEntries: 100,
    redisUrl: 'redis://127.0.0.1:1',
    channel: authChangesChannel(a.config),
    logger,
  });
  afterAll(() => cache.close());

  it('is bypassed: every lookup reads the database and nothing is kept', async () => {
    let reads = 0;
    const load = () => {
      reads += 1;
      return Promise.resolve(state);
    };
    for (let i = 0; i < 3; i += 1) {
      expect(await cache.lookUp(ids, new Date(), load)).toBe(state);
    }
    expect(cache.isCurrent()).toBe(false);
    expect(reads).toBe(3);
    expect(cache.size).toBe(0);
  });
});

/**
 * A TCP proxy to the test Redis that can drop its connections (Redis restarted, network
 * reset) or stop passing bytes while keeping them open (a half-open connection nobody sees).
 */
async function startRedisProxy() {
  const target = new URL(inject('redisUrl'));
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    // Frozen: bytes are dropped, as on a link that went dark.
    client.on('data', (chunk: Buffer) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!frozen) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    drop: () => {
      for (const socket of sockets) socket.destroy();
    },
    freeze: (value: boolean) => {
      frozen = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('the session cache across Redis connection trouble', () => {
  const logger = createLogger(a.config);
  const ids = { userId: 'u1', businessId: 'b1', sessionId: 's1' };
  let reads = 0;
  const load = () => {
    reads += 1;
    return Promise.resolve(validState());
  };

  async function until(condition: () => boolean, what: string) {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('forgets everything on a lost connection and bypasses itself until resubscribed', async () => {
    const proxy = await startRedisProxy();
    const cache = new AuthCache({
      ttlMs: 60_000,
      maxEntries: 100,
      redisUrl: proxy.url,
      channel: authChangesChannel(a.config),
      logger,
    });
    try {
      await until(() => cache.isCurrent(), 'the first subscription');
      reads = 0;
      await cache.lookUp(ids, new Date(), load);
      await cache.lookUp(ids, new Date(), load);
      expect(reads).toBe(1);

      proxy.drop();
      await until(() => !cache.isCurrent(), 'the lost connection to be noticed');
      expect(cache.size).toBe(0);
      // Messages published meanwhile are lost: nothing cached, nothing kept.
      await cache.lookUp(ids, new Date(), load);
      expect(reads).toBe(2);

      await until(() => cache.isCurrent(), 'the resubscription');
      await cache.lookUp(ids, new Date(), load);
      await cache.lookUp(ids, new Date(), load);
      expect(reads).toBe(3);
    } finally {
      cache.close();
      await proxy.close();
    }
  });

  it('stops serving entries once its connection stops answering (half-open)', async () => {
    const proxy = await startRedisProxy();
    const cache = new AuthCache({
      ttlMs: 60_000,
      maxEntries: 100,
      redisUrl: proxy.url,
      channel: authChangesChannel(a.config),
      logger,
    });
    try {
      await until(() => cache.isCurrent(), 'the first subscription');
      reads = 0;
      await cache.lookUp(ids, new Date(), load);
      await cache.lookUp(ids, new Date(), load);
      expect(reads).toBe(1);

      // The socket stays open but nothing passes: announcements would be lost silently.
      proxy.freeze(true);
      await until(() => !cache.isCurrent(), 'unanswered PINGs to be noticed');
      await cache.lookUp(ids, new Date(), load);
      expect(reads).toBe(2);

      proxy.freeze(false);
      // Traffic flows again (on this connection or a new one): served from memory again.
      await until(() => cache.isCurrent(), 'PINGs answered again');
      await cache.lookUp(ids, new Date(), load);
      await cache.lookUp(ids, new Date(), load);
      expect(reads).toBeLessThanOrEqual(3);
    } finally {
      cache.close();
      await proxy.close();
    }
  });
});
