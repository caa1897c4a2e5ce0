import { eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { authSessions, businesses, idempotencyKeys, users } from '../../src/db/schema/index.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { callsToCounter, testRoutes } from '../helpers/test-routes.js';

const { http, deps } = createTestApp({ routes: [...allRoutes, ...testRoutes] });

describe('authenticate()', () => {
  it('resolves the caller from a valid token', async () => {
    const shop = await createBusiness(deps);
    const response = await http.get('/__test/me').set('Authorization', shop.manager.auth);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      userId: shop.manager.id,
      businessId: shop.id,
      role: 'manager',
    });
  });

  it('refuses forged, expired and malformed tokens with 401', async () => {
    const shop = await createBusiness(deps);
    const claims = { bid: shop.id, role: 'owner', sid: shop.owner.sessionId };
    const secret = new TextEncoder().encode(deps.config.auth.jwtSecret);
    const base = () =>
      new SignJWT(claims)
        .setSubject(shop.owner.id)
        .setIssuedAt()
        .setIssuer(deps.config.auth.issuer)
        .setAudience(deps.config.auth.audience);
    const [header, payload] = shop.owner.token.split('.');
    const unsignedNone = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'owner', bid: 'x' })).toString('base64url')}.${shop.owner.token.split('.')[2]}`;
    const cases: [string, string, string][] = [
      ['alg none', unsignedNone, 'UNAUTHENTICATED'],
      [
        'another secret',
        await base()
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('another-secret-0123456789-abcdefghijklmnop')),
        'UNAUTHENTICATED',
      ],
      [
        'expired',
        await base()
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
          .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
          .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
          .sign(secret),
        'TOKEN_EXPIRED',
      ],
      [
        'wrong audience',
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
          .setSubject(shop.owner.id)
          .setIssuedAt()
          .setIssuer(deps.config.auth.issuer)
          .setAudience('someone-else')
          .setExpirationTime('5m')
          .sign(secret),
        'UNAUTHENTICATED',
      ],
      [
        'wrong issuer',
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
          .setSubject(shop.owner.id)
          .setIssuedAt()
          .setIssuer('evil')
          .setAudience(deps.config.auth.audience)
          .setExpirationTime('5m')
          .sign(secret),
        'UNAUTHENTICATED',
      ],
      [
        'wrong typ',
        await base()
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setExpirationTime('5m')
          .sign(secret),
        'UNAUTHENTICATED',
      ],
      ['tampered payload', tampered, 'UNAUTHENTICATED'],
      ['garbage', 'abc.def.ghi', 'UNAUTHENTICATED'],
    ];
    for (const [name, token, code] of cases) {
      const response = await http.get('/__test/me').set('Authorization', `Bearer ${token}`);
      expect({ name, status: response.status, code: response.body.code }).toEqual({
        name,
        status: 401,
        code,
      });
    }
    const noScheme = await http.get('/__test/me').set('Authorization', shop.owner.token);
    expect(noScheme.status).toBe(401);
  });

  it('refuses a disabled user and a revoked session on the very next request', async () => {
    const shop = await createBusiness(deps);
    expect((await http.get('/__test/me').set('Authorization', shop.cashier.auth)).status).toBe(200);
    await deps.db.update(users).set({ status: 'disabled' }).where(eq(users.id, shop.cashier.id));
    expect((await http.get('/__test/me').set('Authorization', shop.cashier.auth)).status).toBe(401);

    expect((await http.get('/__test/me').set('Authorization', shop.manager.auth)).status).toBe(200);
    await deps.db
      .update(authSessions)
      .set({ revokedAt: new Date() })
      .where(eq(authSessions.id, shop.manager.sessionId));
    expect((await http.get('/__test/me').set('Authorization', shop.manager.auth)).status).toBe(401);
  });

  it('applies a role change to tokens already issued', async () => {
    const shop = await createBusiness(deps);
    await deps.db.update(users).set({ role: 'cashier' }).where(eq(users.id, shop.manager.id));
    const response = await http.post('/__test/managed').set('Authorization', shop.manager.auth);
    expect(response.status).toBe(403);
  });
});

describe('requirePermission() and the shared guard helper', () => {
  it('gives 401 without a token and 403 to a role without the permission', async () => {
    const owner = await createBusiness(deps);
    const other = await createBusiness(deps);
    await expectRouteGuards(
      http,
      { owner, other },
      {
        method: 'post',
        path: '/__test/managed',
        allowed: ['owner', 'manager'],
        namesResource: false,
      },
    );
    expect(
      (await http.post('/__test/managed').set('Authorization', owner.manager.auth)).status,
    ).toBe(204);
  });
});

describe('requireActiveSubscription()', () => {
  it('refuses writes with 402 once the subscription has expired, and allows them while past due', async () => {
    const expired = await createBusiness(deps, {
      currentPeriodEnd: new Date(Date.now() - 4 * 86_400_000),
    });
    const refused = await http.post('/__test/managed').set('Authorization', expired.owner.auth);
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ code: 'SUBSCRIPTION_INACTIVE', retryable: false });

    const pastDue = await createBusiness(deps, {
      currentPeriodEnd: new Date(Date.now() - 2 * 86_400_000),
    });
    expect(
      (await http.post('/__test/managed').set('Authorization', pastDue.owner.auth)).status,
    ).toBe(204);

    await deps.db
      .update(businesses)
      .set({ subscriptionPlan: 'monthly', currentPeriodEnd: new Date(Date.now() + 86_400_000) })
      .where(eq(businesses.id, expired.id));
    expect(
      (await http.post('/__test/managed').set('Authorization', expired.owner.auth)).status,
    ).toBe(204);
  });
});

describe('Idempotency-Key', () => {
  const post = (auth: string, key: string | undefined, body: object) => {
    const request = http.post('/__test/counter').set('Authorization', auth);
    return (key === undefined ? request : request.set('Idempotency-Key', key)).send(body);
  };

  it('is required where marked', async () => {
    const shop = await createBusiness(deps);
    const response = await post(shop.owner.auth, undefined, { amount: 1 });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('headers.idempotency-key');
  });

  it('rejects keys that are empty, too long or not visible ASCII', async () => {
    const shop = await createBusiness(deps);
    for (const key of ['k'.repeat(256), 'has space', '""']) {
      const response = await post(shop.owner.auth, key, { amount: 1 });
      expect(response.status).toBe(400);
    }
  });

  it('replays the stored answer for the same key and body, in any key order, quoted or not', async () => {
    const shop = await createBusiness(deps);
    const key = crypto.randomUUID();
    const first = await post(shop.owner.auth, key, { amount: 5, at: '2026-11-22T10:00:00+03:00' });
    expect(first.status).toBe(201);
    const before = callsToCounter();
    const replay = await http
      .post('/__test/counter')
      .set('Authorization', shop.manager.auth)
      .set('Idempotency-Key', `"${key}"`)
      .set('Content-Type', 'application/json')
      .send('{"at":"2026-11-22T07:00:00.000Z","amount":5}');
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers.location).toBe(first.headers.location);
    expect(replay.body).toEqual(first.body);
    expect(callsToCounter()).toBe(before);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    const shop = await createBusiness(deps);
    const key = crypto.randomUUID();
    expect((await post(shop.owner.auth, key, { amount: 1 })).status).toBe(201);
    const reused = await post(shop.owner.auth, key, { amount: 2 });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('scopes keys per business', async () => {
    const a = await createBusiness(deps);
    const b = await createBusiness(deps);
    const key = crypto.randomUUID();
    expect((await post(a.owner.auth, key, { amount: 1 })).status).toBe(201);
    const other = await post(b.owner.auth, key, { amount: 9 });
    expect(other.status).toBe(201);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 409 IDEMPOTENCY_REQUEST_IN_PROGRESS while the first is in flight, then replays', async () => {
    const shop = await createBusiness(deps);
    const key = crypto.randomUUID();
    const body = { amount: 3, delayMs: 600 };
    // supertest sends on then(): start the first request now, await it later.
    const first = post(shop.owner.auth, key, body).then((response) => response);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await post(shop.owner.auth, key, body);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'IDEMPOTENCY_REQUEST_IN_PROGRESS', retryable: true });
    expect((await first).status).toBe(201);
    const third = await post(shop.owner.auth, key, body);
    expect(third.status).toBe(201);
    expect(third.headers['idempotent-replayed']).toBe('true');
  });

  it('lets exactly one of many concurrent first requests run', async () => {
    const shop = await createBusiness(deps);
    const key = crypto.randomUUID();
    const before = callsToCounter();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post(shop.owner.auth, key, { amount: 7, delayMs: 100 })),
    );
    expect(callsToCounter() - before).toBe(1);
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(
      1 + responses.filter((response) => response.headers['idempotent-replayed'] === 'true').length,
    );
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
  });

  it('stores a deterministic 422 but releases the key after a 5xx so the retry runs again', async () => {
    const shop = await createBusiness(deps);
    const rejectedKey = crypto.randomUUID();
    const rejected = await post(shop.owner.auth, rejectedKey, { amount: 1, fail: '422' });
    expect(rejected.status).toBe(422);
    const before = callsToCounter();
    const replayed = await post(shop.owner.auth, rejectedKey, { amount: 1, fail: '422' });
    expect(replayed.status).toBe(422);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(callsToCounter()).toBe(before);

    const failingKey = crypto.randomUUID();
    expect((await post(shop.owner.auth, failingKey, { amount: 1, fail: '500' })).status).toBe(500);
    const rows = await deps.db
      .select()
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.key, failingKey));
    expect(rows).toHaveLength(0);
    const retried = await post(shop.owner.auth, failingKey, { amount: 1, fail: '500' });
    expect(retried.status).toBe(500);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });
});
