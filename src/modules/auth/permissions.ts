import type { Role } from '../../db/schema/index.js';

/**
 * The one permission table (API.md "Roles"). Routes name a permission, never a role, so
 * changing who may do what is a change here and nowhere else.
 */
export const PERMISSIONS = {
  'catalog:read': ['owner', 'manager', 'cashier'],
  'locations:read': ['owner', 'manager', 'cashier'],
  'sales:create': ['owner', 'manager', 'cashier'],
  'sales:read-own': ['owner', 'manager', 'cashier'],
  'payments:sale': ['owner', 'manager', 'cashier'],
  // Open a shift, move cash and close it; read one's own (shifts.service.ts).
  'shifts:operate': ['owner', 'manager', 'cashier'],
  'customers:read': ['owner', 'manager', 'cashier'],
  'customers:write': ['owner', 'manager', 'cashier'],
  'customers:payments': ['owner', 'manager', 'cashier'],
  'sms:receipt': ['owner', 'manager', 'cashier'],
  'catalog:write': ['owner', 'manager'],
  'inventory:write': ['owner', 'manager'],
  'inventory:read': ['owner', 'manager'],
  'sales:read-all': ['owner', 'manager'],
  'sales:void': ['owner', 'manager'],
  // Read every shift, and move cash in or close any (a shift a cashier left open).
  'shifts:read-all': ['owner', 'manager'],
  'reports:read': ['owner', 'manager'],
  'customers:credit-limit': ['owner', 'manager'],
  'sms:remind': ['owner', 'manager'],
  'sms:read': ['owner', 'manager'],
  'invites:cashier': ['owner', 'manager'],
  'invites:manager': ['owner'],
  'users:manage': ['owner'],
  'business:manage': ['owner'],
  'locations:manage': ['owner'],
  'customers:delete': ['owner'],
  'billing:manage': ['owner'],
  'webhooks:manage': ['owner'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

const byRole = new Map<Role, ReadonlySet<Permission>>(
  (['owner', 'manager', 'cashier'] as const).map((role) => [
    role,
    new Set(
      (Object.keys(PERMISSIONS) as Permission[]).filter((permission) =>
        (PERMISSIONS[permission] as readonly Role[]).includes(role),
      ),
    ),
  ]),
);

export function permissionsOf(role: Role): ReadonlySet<Permission> {
  return byRole.get(role) ?? new Set();
}

export function roleHas(role: Role, permission: Permission): boolean {
  return permissionsOf(role).has(permission);
}
