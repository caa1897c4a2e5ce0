import { randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import { eq } from 'drizzle-orm';
import { users } from '../../src/db/schema/index.js';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { auditRows, hashCount, PASSWORD, registerOwner, uniqueEmail } from '../helpers/auth.js';

const { http, deps } = createTestApp();

const login = (email: string, password: string, agent = http) =>
  agent.post('/auth/login').send({ email, password });

describe('POST /auth/login', () => {
  it('answers an unknown email and a wrong password identically, each after one hash', async () => {
    const owner = await registerOwner(http);
    let before = await hashCount();
    const wrong = await login(owner.user.email, 'wrong-password-123');
    expect((await hashCount()) - before).toBe(1);
    before = await hashCount();
    const unknown = await login(uniqueEmail('nobody'), 'wrong-password-123');
    expect((await hashCount()) - before).toBe(1);
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS', retryable: false });
  });

  it('upgrades a hash made with weaker parameters on the next successful sign-in', async () => {
    const owner = await registerOwner(http);
    const weak = await argon2.hash(PASSWORD, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    await deps.db.update(users).set({ passwordHash: weak }).where(eq(users.id, owner.user.id));
    expect((await login(owner.user.email, PASSWORD)).status).toBe(200);
    const [row] = await deps.db.select().from(users).where(eq(users.id, owner.user.id));
    expect(row!.passwordHash).not.toBe(weak);
    expect(row!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login(owner.user.email, PASSWORD)).status).toBe(200);
  });

  it('records an audit row with address and user agent for each sign-in', async () => {
    const owner = await registerOwner(http);
    const response = await http
      .post('/auth/login')
      .set('User-Agent', 'POS-Tablet/2.1')
      .send({ email: owner.user.email, password: PASSWORD });
    expect(response.status).toBe(200);
    const [row] = (await auditRows(deps, owner.business.id)).filter(
      (entry) => entry.action === 'auth.login',
    );
    expect(row).toMatchObject({
      actorUserId: owner.user.id,
      targetType: 'session',
      userAgent: 'POS-Tablet/2.1',
    });
    expect(row!.ip).toMatch(/127\.0\.0\.1/);
  });

  it('answers the 6th wrong password within the window with 429 + Retry-After, computing no hash', async () => {
    const owner = await registerOwner(http);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const response = await login(owner.user.email, `wrong-password-${attempt}`);
      expect({ attempt, status: response.status }).toEqual({ attempt, status: 401 });
    }
    const before = await hashCount();
    const sixth = await login(owner.user.email, 'wrong-password-6');
    expect(await hashCount()).toBe(before);
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    const retryAfter = Number(sixth.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // Even the right password waits: the throttle answers before any check.
    expect((await login(owner.user.email, PASSWORD)).status).toBe(429);
    expect(await hashCount()).toBe(before);
    // Another account from the same address is unaffected.
    const other = await registerOwner(http);
    expect((await login(other.user.email, PASSWORD)).status).toBe(200);
  });

  it('lets no more than 5 of a parallel burst of wrong passwords be checked', async () => {
    const owner = await registerOwner(http);
    const before = await hashCount();
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) => login(owner.user.email, `wrong-password-${index}`)),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    expect((await hashCount()) - before).toBe(5);
  });

  it('counts across API processes through Redis', async () => {
    const second = createTestAppLate();
    const owner = await registerOwner(http);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const agent = attempt % 2 === 0 ? (await second).http : http;
      expect((await login(owner.user.email, 'wrong-password-x', agent)).status).toBe(401);
    }
    expect((await login(owner.user.email, 'wrong-password-x', (await second).http)).status).toBe(
      429,
    );
  });

  it('resets the per-email count after a successful sign-in', async () => {
    const owner = await registerOwner(http);
    for (let attempt = 1; attempt <= 4; attempt++) {
      expect((await login(owner.user.email, 'wrong-password-x')).status).toBe(401);
    }
    expect((await login(owner.user.email, PASSWORD)).status).toBe(200);
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await login(owner.user.email, 'wrong-password-x')).status).toBe(401);
    }
    expect((await login(owner.user.email, 'wrong-password-x')).status).toBe(429);
  });
});

// Apps made inside a test cannot register afterAll there; make them at file level instead.
const late = createTestApp();
const createTestAppLate = () => Promise.resolve(late);

describe('login throttle per address', () => {
  // Its own Redis namespace and a low per-address limit, so other tests' failures do not count.
  const { http: limited } = createTestApp({
    env: { REDIS_PREFIX: `${inject('redisPrefix')}_ip`, LOGIN_MAX_FAILURES_PER_IP: '3' },
  });

  it('refuses any email from an address past its failure limit', async () => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect((await login(uniqueEmail(), 'wrong-password-x', limited)).status).toBe(401);
    }
    const response = await login(uniqueEmail(), 'wrong-password-x', limited);
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('login throttle while Redis is down', () => {
  const { http: offline, deps: offlineDeps } = createTestApp({
    env: { REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: `down_${randomUUID().slice(0, 8)}` },
  });

  it('keeps signing users in and still throttles, counting in process', async () => {
    expect(offlineDeps.redis.status).not.toBe('ready');
    const owner = await registerOwner(offline);
    expect((await login(owner.user.email, PASSWORD, offline)).status).toBe(200);
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await login(owner.user.email, 'wrong-password-x', offline)).status).toBe(401);
    }
    const before = await hashCount();
    const sixth = await login(owner.user.email, 'wrong-password-x', offline);
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    expect(await hashCount()).toBe(before);
  });
});
