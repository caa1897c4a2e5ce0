import { and, eq, isNull } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { authSessions, users } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, createUser, TEST_PASSWORD } from '../helpers/factories.js';
import { auditRows, bearer, registerOwner, PASSWORD } from '../helpers/auth.js';

const { http, deps } = createTestApp();

const patchUser = (auth: string, id: string, body: object) =>
  http.patch(`/users/${id}`).set('Authorization', auth).send(body);

describe('PATCH /users/{id}', () => {
  it('never leaves a business without an active owner (422), yet lets a second owner step down', async () => {
    const shop = await createBusiness(deps);
    for (const body of [
      { role: 'manager' },
      { status: 'disabled' },
      { role: 'cashier', status: 'disabled' },
    ]) {
      const response = await patchUser(shop.owner.auth, shop.owner.id, body);
      expect(response.status).toBe(422);
      expect(response.body.code).toBe('UNPROCESSABLE');
    }
    const promoted = await patchUser(shop.owner.auth, shop.manager.id, { role: 'owner' });
    expect(promoted.body).toMatchObject({ role: 'owner' });
    const stepDown = await patchUser(shop.owner.auth, shop.owner.id, { role: 'manager' });
    expect(stepDown.status).toBe(200);
    // The demotion applies at once to the token already held.
    expect((await http.get('/users').set('Authorization', shop.owner.auth)).status).toBe(403);
    expect(
      (await patchUser(shop.manager.auth, shop.manager.id, { status: 'disabled' })).status,
    ).toBe(422);
  });

  it('lets only one of two owners demoting each other at the same time succeed', async () => {
    const shop = await createBusiness(deps);
    const second = await createUser(deps, shop.id, 'owner');
    const [a, b] = await Promise.all([
      patchUser(shop.owner.auth, second.id, { role: 'manager' }),
      patchUser(second.auth, shop.owner.id, { role: 'manager' }),
    ]);
    // The loser is refused either by the last-owner rule (422) or, when the winner committed
    // before its request authenticated, because it is no longer an owner (403).
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 422]).toContain(statuses[1]);
    const owners = await deps.db
      .select()
      .from(users)
      .where(and(eq(users.businessId, shop.id), eq(users.role, 'owner')));
    expect(owners).toHaveLength(1);
  });

  it('disabling revokes every session; re-enabling lets the user sign in again', async () => {
    const shop = await createBusiness(deps);
    const login = await http
      .post('/auth/login')
      .send({ email: shop.cashier.email, password: TEST_PASSWORD });
    expect(login.status).toBe(200);
    expect((await patchUser(shop.owner.auth, shop.cashier.id, { status: 'disabled' })).status).toBe(
      200,
    );
    const live = await deps.db
      .select()
      .from(authSessions)
      .where(and(eq(authSessions.userId, shop.cashier.id), isNull(authSessions.revokedAt)));
    expect(live).toHaveLength(0);
    expect((await http.get('/me').set('Authorization', bearer(login.body))).status).toBe(401);
    expect((await patchUser(shop.owner.auth, shop.cashier.id, { status: 'active' })).status).toBe(
      200,
    );
    // Old sessions stay revoked; a new sign-in works.
    expect((await http.get('/me').set('Authorization', shop.cashier.auth)).status).toBe(401);
    const again = await http
      .post('/auth/login')
      .send({ email: shop.cashier.email, password: TEST_PASSWORD });
    expect(again.status).toBe(200);
  });

  it('records role and status changes with before and after, and 404s unknown ids', async () => {
    const shop = await createBusiness(deps);
    const response = await http
      .patch(`/users/${shop.cashier.id}`)
      .set('Authorization', shop.owner.auth)
      .set('User-Agent', 'BackOffice/1.0')
      .send({ role: 'manager', status: 'disabled' });
    expect(response.body).toMatchObject({ role: 'manager', status: 'disabled' });
    const audit = (await auditRows(deps, shop.id)).filter(
      (row) => row.targetId === shop.cashier.id,
    );
    expect(audit.map((row) => [row.action, row.details])).toEqual([
      ['user.role_changed', { from: 'cashier', to: 'manager' }],
      ['user.status_changed', { from: 'active', to: 'disabled' }],
    ]);
    expect(audit[0]).toMatchObject({ actorUserId: shop.owner.id, userAgent: 'BackOffice/1.0' });
    expect(
      (
        await patchUser(shop.owner.auth, '01900000-0000-7000-8000-000000000000', {
          role: 'cashier',
        })
      ).status,
    ).toBe(404);
    expect((await patchUser(shop.owner.auth, 'not-a-uuid', { role: 'cashier' })).status).toBe(400);
  });

  it('is refused with 402 while the subscription is expired', async () => {
    const shop = await createBusiness(deps, {
      currentPeriodEnd: new Date(Date.now() - 4 * 86_400_000),
    });
    const response = await patchUser(shop.owner.auth, shop.cashier.id, { status: 'disabled' });
    expect(response.status).toBe(402);
    expect(response.body.code).toBe('SUBSCRIPTION_INACTIVE');
  });
});

describe('GET /users', () => {
  it('lists the business users newest first, filters by role and status, and pages', async () => {
    const shop = await createBusiness(deps);
    const all = await http.get('/users').set('Authorization', shop.owner.auth);
    expect(all.body.data).toHaveLength(4);
    expect(all.body.data[0]).not.toHaveProperty('passwordHash');
    const cashiers = await http.get('/users?role=cashier').set('Authorization', shop.owner.auth);
    expect(cashiers.body.data.map((user: { id: string }) => user.id).sort()).toEqual(
      [shop.cashier.id, shop.cashier2.id].sort(),
    );
    const page = await http.get('/users?limit=3').set('Authorization', shop.owner.auth);
    expect(page.body.data).toHaveLength(3);
    const rest = await http
      .get(`/users?limit=3&cursor=${page.body.nextCursor}`)
      .set('Authorization', shop.owner.auth);
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();
    expect(
      (await http.get('/users?status=disabled').set('Authorization', shop.owner.auth)).body.data,
    ).toEqual([]);
  });
});

describe('/me', () => {
  it('GET returns the user, business and permissions', async () => {
    const shop = await createBusiness(deps);
    const me = await http.get('/me').set('Authorization', shop.manager.auth);
    expect(me.body.user).toMatchObject({ id: shop.manager.id, role: 'manager' });
    expect(me.body.business).toMatchObject({ id: shop.id, currency: 'KES' });
    expect(me.body.permissions).toContain('invites:cashier');
    expect(me.body.permissions).not.toContain('invites:manager');
  });

  it('PATCH changes the name; a password change needs the current one and signs out other sessions', async () => {
    const owner = await registerOwner(http);
    const otherDevice = await http
      .post('/auth/login')
      .send({ email: owner.user.email, password: PASSWORD });
    const renamed = await http
      .patch('/me')
      .set('Authorization', bearer(owner))
      .send({ name: 'Mama Mboga' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.user.name).toBe('Mama Mboga');

    const wrong = await http
      .patch('/me')
      .set('Authorization', bearer(owner))
      .send({ currentPassword: 'not-my-password', newPassword: 'another-long-password' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors[0].path).toBe('currentPassword');

    const changed = await http
      .patch('/me')
      .set('Authorization', bearer(owner))
      .send({ currentPassword: PASSWORD, newPassword: 'another-long-password' });
    expect(changed.status).toBe(200);
    // This session continues; the other device is signed out, tokens and refresh alike.
    expect((await http.get('/me').set('Authorization', bearer(owner))).status).toBe(200);
    expect((await http.get('/me').set('Authorization', bearer(otherDevice.body))).status).toBe(401);
    expect(
      (await http.post('/auth/refresh').send({ refreshToken: otherDevice.body.refreshToken }))
        .status,
    ).toBe(401);
    expect(
      (await http.post('/auth/login').send({ email: owner.user.email, password: PASSWORD })).status,
    ).toBe(401);
    expect(
      (
        await http
          .post('/auth/login')
          .send({ email: owner.user.email, password: 'another-long-password' })
      ).status,
    ).toBe(200);
    const actions = (await auditRows(deps, owner.business.id)).map((row) => row.action);
    expect(actions).toContain('user.name_changed');
    expect(actions).toContain('user.password_changed');
  });
});
