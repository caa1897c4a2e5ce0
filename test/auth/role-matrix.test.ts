import { describe, expect, it } from 'vitest';
import type supertest from 'supertest';
import type { Role } from '../../src/db/schema/index.js';
import { PERMISSIONS, type Permission } from '../../src/modules/auth/permissions.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { uniqueEmail } from '../helpers/auth.js';

const { http, deps } = createTestApp();
const ROLES: readonly Role[] = ['owner', 'manager', 'cashier'];

/** API.md "Roles", row by row, with the permissions (src/modules/auth/permissions.ts) that implement each. */
const API_ROLES_TABLE: { row: string; roles: readonly Role[]; permissions: Permission[] }[] = [
  {
    row: 'read catalog, create sales, read own sales',
    roles: ['owner', 'manager', 'cashier'],
    permissions: [
      'catalog:read',
      'locations:read',
      'sales:create',
      'sales:read-own',
      'payments:sale',
      // Part 2 "Shifts": cashiers open, move cash in, close and read their own shifts.
      'shifts:operate',
      'customers:read',
      'customers:write',
      'customers:payments',
      'sms:receipt',
    ],
  },
  {
    row: 'write catalog & images, inventory, read all sales, void sales, returns, reports',
    roles: ['owner', 'manager'],
    permissions: [
      'catalog:write',
      'inventory:write',
      'inventory:read',
      'sales:read-all',
      'sales:void',
      'returns:create',
      'returns:read',
      'reports:read',
      // Part 2 "Shifts": managers and owners read (and close) every shift.
      'shifts:read-all',
      'customers:credit-limit',
      'sms:remind',
      'sms:read',
      // Part 2 "KRA eTIMS": resend an invoice KRA refused, after the fix.
      'etims:retry',
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
      'locations:manage',
      'customers:delete',
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

  // Every (route, caller) pair of the registry against ROUTE_ACCESS below: anonymous callers
  // get 401 on every non-public route, a role outside the route's row 403 before anything
  // else runs, and a role inside it never 401/403. A route missing from the table fails.
  it('holds for every (route, caller) pair in the registry', async () => {
    const shop = await createBusiness(deps);
    const placeholder = '01900000-0000-7000-8000-000000000000';
    for (const route of allRoutes) {
      const key = `${route.method.toUpperCase()} ${route.path}`;
      const allowed = ROUTE_ACCESS[key];
      expect(allowed, `${key} is missing from ROUTE_ACCESS`).toBeDefined();
      const path = route.path.replace(/\{[^}]+\}/g, placeholder);
      const anonymous = await http[route.method](path);
      if (allowed === 'public') {
        // No bearer needed (a private file's 403 is its link signature, not a role).
        expect(anonymous.status, `${key} anonymous`).not.toBe(401);
        continue;
      }
      expect({ key, caller: 'anonymous', status: anonymous.status }).toEqual({
        key,
        caller: 'anonymous',
        status: 401,
      });
      for (const role of ROLES) {
        const response = await http[route.method](path).set('Authorization', shop[role].auth);
        if (allowed!.includes(role)) {
          expect([401, 403], `${key} as ${role}`).not.toContain(response.status);
        } else {
          expect({ key, caller: role, status: response.status }).toEqual({
            key,
            caller: role,
            status: 403,
          });
        }
      }
    }
  });
});

const ALL: readonly Role[] = ROLES;
const STAFF: readonly Role[] = ['owner', 'manager'];
const OWNER: readonly Role[] = ['owner'];

/**
 * Who may call each route, written from API.md (its Roles table and each endpoint's text),
 * independently of the permissions the routes declare: the two must agree, and every route
 * of the registry must be here.
 */
const ROUTE_ACCESS: Record<string, 'public' | readonly Role[]> = {
  'GET /health': 'public',
  'GET /ready': 'public',
  'GET /metrics': 'public',
  'GET /errors/{slug}': 'public',
  'POST /auth/register': 'public',
  'POST /auth/login': 'public',
  'POST /auth/refresh': 'public',
  'POST /auth/logout': 'public',
  'POST /auth/password/forgot': 'public',
  'POST /auth/password/reset': 'public',
  'GET /me': ALL,
  'PATCH /me': ALL,
  'GET /users': OWNER,
  'PATCH /users/{id}': OWNER,
  'POST /invites': STAFF,
  'GET /invites': STAFF,
  'DELETE /invites/{id}': STAFF,
  'POST /invites/accept': 'public',
  'GET /business': ALL,
  'PATCH /business': OWNER,
  'GET /business/subscription': ALL,
  'GET /locations': ALL,
  'GET /locations/{id}': ALL,
  'POST /locations': OWNER,
  'PATCH /locations/{id}': OWNER,
  'DELETE /locations/{id}': OWNER,
  'GET /products': ALL,
  'GET /products/{id}': ALL,
  'POST /products': STAFF,
  'PATCH /products/{id}': STAFF,
  'DELETE /products/{id}': STAFF,
  'POST /products/{id}/image': STAFF,
  'GET /categories': ALL,
  'POST /categories': STAFF,
  'PATCH /categories/{id}': STAFF,
  'DELETE /categories/{id}': STAFF,
  'POST /inventory/adjustments': STAFF,
  'POST /inventory/transfers': STAFF,
  'GET /inventory/movements': STAFF,
  'GET /inventory/low-stock': STAFF,
  'GET /files/{folder}/{name}': 'public',
  'POST /sales': ALL,
  'POST /sales/sync': ALL,
  'GET /sales': ALL,
  'GET /sales/{id}': ALL,
  'POST /sales/{id}/void': STAFF,
  'POST /sales/{id}/receipt/email': ALL,
  'POST /returns': STAFF,
  'GET /returns': STAFF,
  'GET /returns/{id}': STAFF,
  'GET /returns/{id}/receipt': STAFF,
  'GET /sales/{id}/receipt': ALL,
  'POST /shifts': ALL,
  'GET /shifts': ALL,
  'GET /shifts/{id}': ALL,
  'GET /shifts/{id}/report': ALL,
  'POST /shifts/{id}/cash-movements': ALL,
  'POST /shifts/{id}/close': ALL,
  'GET /customers': ALL,
  'GET /customers/{id}': ALL,
  'POST /customers': ALL,
  'PATCH /customers/{id}': ALL,
  'DELETE /customers/{id}': OWNER,
  'POST /customers/{id}/payments': ALL,
  'GET /customers/{id}/statement': ALL,
  'POST /sales/{id}/receipt/sms': ALL,
  'POST /customers/{id}/remind': STAFF,
  'GET /sms': STAFF,
  'POST /sms/delivery-reports/{token}': 'public',
  'POST /bv-payments/subscription-stk-push': OWNER,
  'POST /bv-payments/sale-stk-push': ALL,
  'GET /bv-payments/{id}': ALL,
  'POST /bv-payments/mpesa/callback/{token}': 'public',
  'POST /bv-payments/callbacks/stk/{token}': 'public',
  'PUT /business/mpesa': OWNER,
  'GET /business/etims': OWNER,
  'PUT /business/etims': OWNER,
  'POST /business/etims/initialize': OWNER,
  'POST /sales/{id}/etims/retry': STAFF,
  'GET /business/mpesa': OWNER,
  'POST /business/mpesa/register-c2b': OWNER,
  'GET /bv-payments/c2b': ALL,
  'POST /bv-payments/callbacks/c2b/{token}/validation': 'public',
  'POST /bv-payments/callbacks/c2b/{token}/confirmation': 'public',
  'GET /reports/sales-summary': STAFF,
  'POST /reports/exports': STAFF,
  'GET /reports/exports/{id}': STAFF,
  'POST /webhooks': OWNER,
  'GET /webhooks': OWNER,
  'GET /webhooks/{id}': OWNER,
  'PATCH /webhooks/{id}': OWNER,
  'DELETE /webhooks/{id}': OWNER,
  'POST /webhooks/{id}/rotate-secret': OWNER,
  'POST /webhooks/{id}/test': OWNER,
  'GET /webhooks/{id}/deliveries': OWNER,
  'POST /webhooks/{id}/deliveries/{deliveryId}/retry': OWNER,
};

describe('ROUTE_ACCESS', () => {
  it('names every route of the registry, and only those', () => {
    const registered = allRoutes.map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(Object.keys(ROUTE_ACCESS).sort()).toEqual(registered.sort());
  });

  it("agrees with each route's declared access", () => {
    for (const route of allRoutes) {
      const key = `${route.method.toUpperCase()} ${route.path}`;
      const declared =
        route.access === 'public'
          ? 'public'
          : route.access === 'authenticated'
            ? [...ROLES].sort()
            : [...PERMISSIONS[route.access]].sort();
      const written = ROUTE_ACCESS[key];
      expect({ key, access: written === 'public' ? written : [...(written ?? [])].sort() }).toEqual(
        { key, access: declared },
      );
    }
  });
});
