import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { invites, users } from '../../src/db/schema/index.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { expectRouteGuards, type GuardedRoute } from '../helpers/guards.js';
import { uniqueEmail } from '../helpers/auth.js';

const { http, deps } = createTestApp();

async function inviteOf(shop: TestBusiness, role: 'cashier' | 'manager' = 'cashier') {
  const response = await http
    .post('/invites')
    .set('Authorization', shop.owner.auth)
    .send({ email: uniqueEmail('invitee'), role });
  expect(response.status).toBe(201);
  return response.body as { id: string };
}

const ALL = ['owner', 'manager', 'cashier'] as const;

/** Every authenticated route of the people, invite and business modules, with a request for it. */
async function guardedRoutes(shop: TestBusiness): Promise<(GuardedRoute & { template: string })[]> {
  const invite = await inviteOf(shop);
  return [
    { template: 'GET /me', method: 'get', path: '/me', allowed: ALL, namesResource: false },
    {
      template: 'PATCH /me',
      method: 'patch',
      path: '/me',
      body: { name: 'Same' },
      allowed: ALL,
      namesResource: false,
    },
    {
      template: 'GET /users',
      method: 'get',
      path: '/users',
      allowed: ['owner'],
      namesResource: false,
    },
    {
      template: 'PATCH /users/{id}',
      method: 'patch',
      path: `/users/${shop.cashier.id}`,
      body: { role: 'cashier' },
      allowed: ['owner'],
      namesResource: true,
    },
    {
      template: 'POST /invites',
      method: 'post',
      path: '/invites',
      body: { email: uniqueEmail(), role: 'cashier' },
      allowed: ['owner', 'manager'],
      namesResource: false,
    },
    {
      template: 'GET /invites',
      method: 'get',
      path: '/invites',
      allowed: ['owner', 'manager'],
      namesResource: false,
    },
    {
      template: 'DELETE /invites/{id}',
      method: 'delete',
      path: `/invites/${invite.id}`,
      allowed: ['owner', 'manager'],
      namesResource: true,
    },
    {
      template: 'GET /business',
      method: 'get',
      path: '/business',
      allowed: ALL,
      namesResource: false,
    },
    {
      template: 'PATCH /business',
      method: 'patch',
      path: '/business',
      body: { lowStockEmails: true },
      allowed: ['owner'],
      namesResource: false,
    },
    {
      template: 'GET /business/subscription',
      method: 'get',
      path: '/business/subscription',
      allowed: ALL,
      namesResource: false,
    },
  ];
}

describe('401 / 403 / other-business 404 on every route of this capability', () => {
  it('covers every authenticated People and Business route in the registry', async () => {
    const shop = await createBusiness(deps);
    const covered = (await guardedRoutes(shop)).map((route) => route.template).sort();
    const registered = allRoutes
      .filter((route) => route.access !== 'public')
      .filter((route) => route.tags.some((tag) => tag === 'People' || tag === 'Business'))
      .map((route) => `${route.method.toUpperCase()} ${route.path}`)
      .sort();
    expect(covered).toEqual(registered);
  });

  it('answers each route with the shared guard checks', async () => {
    const owner = await createBusiness(deps);
    const other = await createBusiness(deps);
    for (const route of await guardedRoutes(owner)) {
      await expectRouteGuards(http, { owner, other }, route);
    }
  });
});

describe('cross-business access changes nothing', () => {
  it("another business's owner cannot see, change or revoke A's users and invites", async () => {
    const a = await createBusiness(deps);
    const b = await createBusiness(deps);
    const invite = await inviteOf(a);

    const patch = await http
      .patch(`/users/${a.manager.id}`)
      .set('Authorization', b.owner.auth)
      .send({ status: 'disabled', role: 'cashier' });
    expect(patch.status).toBe(404);
    expect(patch.body.code).toBe('NOT_FOUND');
    const [manager] = await deps.db.select().from(users).where(eq(users.id, a.manager.id));
    expect(manager).toMatchObject({ status: 'active', role: 'manager' });

    expect(
      (await http.delete(`/invites/${invite.id}`).set('Authorization', b.owner.auth)).status,
    ).toBe(404);
    const [row] = await deps.db.select().from(invites).where(eq(invites.id, invite.id));
    expect(row!.revokedAt).toBeNull();

    const listed = await http.get('/users?limit=200').set('Authorization', b.owner.auth);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((user: { businessId: string }) => user.businessId)).toEqual(
      Array(4).fill(b.id),
    );
    const invitesOfB = await http.get('/invites').set('Authorization', b.owner.auth);
    expect(invitesOfB.body).toEqual({ data: [], nextCursor: null });
    const business = await http.get('/business').set('Authorization', b.owner.auth);
    expect(business.body.id).toBe(b.id);
  });
});
