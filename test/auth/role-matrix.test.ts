import { describe, expect, it } from 'vitest';
import type supertest from 'supertest';
import type { Role } from '../../src/db/schema/index.js';
import { PERMISSIONS, type Permission } from '../../src/modules/auth/permissions.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { uniqueEmail } from './helpers.js';

const { http, deps } = createTestApp();
const ROLES: readonly Role[] = ['owner', 'manager', 'cashier'];

/** API.md "Roles", row by row, with the permissions (src/modules/auth/permissions.ts) that implement each. */
const API_ROLES_TABLE: { row: string; roles: readonly Role[]; permissions: Permission[] }[] = [
  {
    row: 'read catalog, create sales, read own sales',
    roles: ['owner', 'manager', 'cashier'],
    permissions: ['catalog:read', 'sales:create', 'sales:read-own', 'payments:sale'],
  },
  {
    row: 'write catalog & images, inventory, read all sales, void sales, reports',
    roles: ['owner', 'manager'],
    permissions: [
      'catalog:write',
      'inventory:write',
      'inventory:read',
      'sales:read-all',
      'sales:void',
      'reports:read',
    ],
  },
  { row: 'invite cashiers', roles: ['owner', 'manager'], permissions: ['invites:cashier'] },
  {
    row: 'invite managers, manage users, business settings, billing, webhooks',
    roles: ['owner'],
    permissions: [
      'invites:manager',
      'users:manage',
      'business:manage',
      'billing:manage',
      'webhooks:manage',
    ],
  },
  { row: '(signed in: own profile, business, subscription)', roles: ROLES, permissions: [] },
];

const rowOf = (permission: Permission) =>
  API_ROLES_TABLE.find((entry) => entry.permissions.includes(permission));

/** A request the table says the row's roles may make, and the status they get. */
interface Probe {
  row: string;
  name: string;
  success: number;
  send: (shop: TestBusiness, auth: string) => Promise<supertest.Response>;
}

const invite = (shop: TestBusiness, role: 'cashier' | 'manager') =>
  http
    .post('/invites')
    .set('Authorization', shop.owner.auth)
    .send({ email: uniqueEmail(), role })
    .then((response) => response.body as { id: string });

const PROBES: Probe[] = [
  {
    row: 'invite cashiers',
    name: 'POST /invites (cashier)',
    success: 201,
    send: (_, auth) =>
      http
        .post('/invites')
        .set('Authorization', auth)
        .send({ email: uniqueEmail(), role: 'cashier' }),
  },
  {
    row: 'invite cashiers',
    name: 'GET /invites',
    success: 200,
    send: (_, auth) => http.get('/invites').set('Authorization', auth),
  },
  {
    row: 'invite cashiers',
    name: 'DELETE /invites/{id} (cashier invite)',
    success: 204,
    send: async (shop, auth) =>
      http.delete(`/invites/${(await invite(shop, 'cashier')).id}`).set('Authorization', auth),
  },
  {
    row: 'invite managers, manage users, business settings, billing, webhooks',
    name: 'POST /invites (manager)',
    success: 201,
    send: (_, auth) =>
      http
        .post('/invites')
        .set('Authorization', auth)
        .send({ email: uniqueEmail(), role: 'manager' }),
  },
  {
    row: 'invite managers, manage users, business settings, billing, webhooks',
    name: 'DELETE /invites/{id} (manager invite)',
    success: 204,
    send: async (shop, auth) =>
      http.delete(`/invites/${(await invite(shop, 'manager')).id}`).set('Authorization', auth),
  },
  {
    row: 'invite managers, manage users, business settings, billing, webhooks',
    name: 'GET /users',
    success: 200,
    send: (_, auth) => http.get('/users').set('Authorization', auth),
  },
  {
    row: 'invite managers, manage users, business settings, billing, webhooks',
    name: 'PATCH /users/{id}',
    success: 200,
    send: (shop, auth) =>
      http.patch(`/users/${shop.cashier2.id}`).set('Authorization', auth).send({ role: 'cashier' }),
  },
  {
    row: 'invite managers, manage users, business settings, billing, webhooks',
    name: 'PATCH /business',
    success: 200,
    send: (_, auth) =>
      http.patch('/business').set('Authorization', auth).send({ lowStockEmails: false }),
  },
  ...(['/me', '/business', '/business/subscription'] as const).map((path): Probe => ({
    row: '(signed in: own profile, business, subscription)',
    name: `GET ${path}`,
    success: 200,
    send: (_, auth) => http.get(path).set('Authorization', auth),
  })),
  {
    row: '(signed in: own profile, business, subscription)',
    name: 'PATCH /me',
    success: 200,
    send: (_, auth) => http.patch('/me').set('Authorization', auth).send({ name: 'Renamed' }),
  },
];

describe("API.md's Roles table", () => {
  it('is exactly the permission table', () => {
    for (const permission of Object.keys(PERMISSIONS) as Permission[]) {
      const entry = rowOf(permission);
      expect(entry, `${permission} is not mapped to a row of API.md's Roles table`).toBeDefined();
      expect({ permission, roles: [...PERMISSIONS[permission]].sort() }).toEqual({
        permission,
        roles: [...entry!.roles].sort(),
      });
    }
  });

  for (const entry of API_ROLES_TABLE) {
    const probes = PROBES.filter((probe) => probe.row === entry.row);
    for (const probe of probes) {
      it(`${entry.row}: ${probe.name} → ${entry.roles.join(', ')} only`, async () => {
        const shop = await createBusiness(deps);
        for (const role of ROLES) {
          const response = await probe.send(shop, shop[role].auth);
          const expected = entry.roles.includes(role) ? probe.success : 403;
          expect({ role, status: response.status }).toEqual({ role, status: expected });
        }
      });
    }
  }

  // Every route in the registry, whoever wrote it: the route's permission decides, via the
  // table row it belongs to, which roles are refused with 403 before anything else runs.
  it('holds for every permission-guarded route in the registry', async () => {
    const shop = await createBusiness(deps);
    const placeholder = '01900000-0000-7000-8000-000000000000';
    const guarded = allRoutes.filter(
      (route) => route.access !== 'public' && route.access !== 'authenticated',
    );
    expect(guarded.length).toBeGreaterThan(0);
    for (const route of guarded) {
      const entry = rowOf(route.access as Permission);
      expect(entry, `${route.operationId} names an unmapped permission`).toBeDefined();
      const path = route.path.replace(/\{[^}]+\}/g, placeholder);
      for (const role of ROLES) {
        const response = await http[route.method](path).set('Authorization', shop[role].auth);
        const where = `${route.method.toUpperCase()} ${route.path} as ${role}`;
        if (entry!.roles.includes(role)) {
          expect([401, 403], where).not.toContain(response.status);
        } else {
          expect({ where, status: response.status }).toEqual({ where, status: 403 });
        }
      }
    }
  });
});
