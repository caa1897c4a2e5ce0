import type { Role } from '../../db/schema/index.js';
import { roleHas, type Permission } from '../auth/permissions.js';

/**
 * Who may receive an event on `GET /realtime`, by the one permission table the REST routes
 * use (modules/auth/permissions.ts): `all` lets the viewer see every event of the kind in
 * their business, `own` only those they own (the sale's cashier, the payment's initiator).
 */
export interface EventAccess {
  all: Permission;
  own?: Permission;
}

const SALES: EventAccess = { all: 'sales:read-all', own: 'sales:read-own' };

/** By event-type prefix; the first match wins. */
const ACCESS: readonly (readonly [prefix: string, access: EventAccess])[] = [
  // Prices and products: what every till's catalog shows.
  ['product.', { all: 'catalog:read' }],
  // Stock as a till sees it (the catalog's stock figures; API.md: a cashier sees stock).
  ['inventory.', { all: 'catalog:read' }],
  ['stock.', { all: 'catalog:read' }],
  ['sale.', SALES],
  ['return.', SALES],
  ['shift.', { all: 'shifts:read-all', own: 'shifts:operate' }],
  // The debt book is shared by the shop's tills (customers:read includes cashiers).
  ['customer.', { all: 'customers:read' }],
  ['payment.', { all: 'sales:read-all', own: 'payments:sale' }],
  ['subscription.', { all: 'billing:manage' }],
  ['webhook.', { all: 'webhooks:manage' }],
];

/** An event type nobody listed yet is the owner's alone until someone decides otherwise. */
const UNLISTED: EventAccess = { all: 'business:manage' };

export function accessFor(eventType: string): EventAccess {
  return ACCESS.find(([prefix]) => eventType.startsWith(prefix))?.[1] ?? UNLISTED;
}

export interface Viewer {
  userId: string;
  businessId: string;
  role: Role;
}

export interface EventAudience {
  businessId: string;
  type: string;
  /** The user the event is about (sale's cashier, payment's initiator); null if none. */
  ownerId: string | null;
}

/** True when `viewer` may receive `event`: same business, and the role's permission allows it. */
export function mayReceive(viewer: Viewer, event: EventAudience): boolean {
  if (viewer.businessId !== event.businessId) return false;
  const access = accessFor(event.type);
  if (roleHas(viewer.role, access.all)) return true;
  return (
    access.own !== undefined &&
    roleHas(viewer.role, access.own) &&
    event.ownerId !== null &&
    event.ownerId === viewer.userId
  );
}

/** `lastEventId` as sent by a client: a decimal event id (the outbox event sequence). */
export function parseEventId(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
