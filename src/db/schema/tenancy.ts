import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs, updatedAt } from './columns.js';

export const ROLES = ['owner', 'manager', 'cashier'] as const;
export type Role = (typeof ROLES)[number];

export const USER_STATUSES = ['active', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export const SUBSCRIPTION_PLANS = ['monthly', 'annual'] as const;
export type SubscriptionPlan = (typeof SUBSCRIPTION_PLANS)[number];

/** A shop: the tenant every other row belongs to. */
export const businesses = pgTable('businesses', {
  id: primaryId(),
  name: text().notNull(),
  phone: text(),
  currency: text().notNull().default('KES'),
  timezone: text().notNull().default('Africa/Nairobi'),
  lowStockEmails: boolean().notNull().default(true),
  /** null while trialing; status is derived from the plan and period end (subscription.rules.ts). */
  subscriptionPlan: text().$type<SubscriptionPlan>(),
  currentPeriodEnd: timestampMs().notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * A branch of a business (Square's Location). Every business has at least one: the
 * `businesses_main_location` trigger (drizzle/0004) creates `Main` (isDefault) in the
 * business's own insert, so no code path can make a business without one.
 */
export const locations = pgTable(
  'locations',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    name: text().notNull(),
    address: text(),
    phone: text(),
    /** KRA eTIMS branch id (bhfId); "00" is the head office. */
    etimsBranchId: text().notNull().default('00'),
    isDefault: boolean().notNull().default(false),
    archived: boolean().notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    // Target of the (location, business) foreign keys: a movement, level or sale can only
    // name a location of its own business.
    unique('locations_id_business_unique').on(table.id, table.businessId),
    index('locations_business_idx').on(table.businessId, table.id),
    // Exactly one default per business.
    uniqueIndex('locations_business_default_unique')
      .on(table.businessId)
      .where(sql`${table.isDefault}`),
    // One "Westlands" among a business's open branches (409 naming `name`).
    uniqueIndex('locations_business_name_unique')
      .on(table.businessId, sql`lower(${table.name})`)
      .where(sql`not ${table.archived}`),
  ],
);

export const users = pgTable(
  'users',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    email: text().notNull(),
    name: text().notNull(),
    passwordHash: text().notNull(),
    role: text().$type<Role>().notNull(),
    /** The locations this user works at; empty = every location (owners always see all). */
    locationIds: uuid()
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    status: text().$type<UserStatus>().notNull().default('active'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    // One account per email across the service: login is by email alone.
    uniqueIndex('users_email_unique').on(sql`lower(${table.email})`),
    index('users_business_idx').on(table.businessId, table.createdAt),
  ],
);

/**
 * A login session: one refresh-token family. Access tokens carry its id, so revoking the
 * session (logout, reuse detection, password reset) refuses them on the very next request.
 */
export const authSessions = pgTable(
  'auth_sessions',
  {
    id: primaryId(),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    userAgent: text(),
    ip: text(),
    createdAt: createdAt(),
    expiresAt: timestampMs().notNull(),
    revokedAt: timestampMs(),
    revokedReason: text(),
  },
  (table) => [index('auth_sessions_user_idx').on(table.userId)],
);
