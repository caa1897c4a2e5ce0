import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs } from './columns.js';
import { authSessions, businesses, users, type Role } from './tenancy.js';

/**
 * One opaque refresh token of a session (auth_sessions = the token family). Only the
 * sha256 of the token is stored. Rotation spends a token (`used_at`) and links it to its
 * successor, so a spent token presented again can be recognised as reuse.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: primaryId(),
    sessionId: uuid()
      .notNull()
      .references(() => authSessions.id),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    /** sha256(token), hex. The token itself is never stored. */
    tokenHash: text().notNull(),
    /** The token this one was issued in exchange for (null for the first of a session). */
    parentId: uuid(),
    /** The latest token issued in exchange for this one. */
    replacedById: uuid(),
    usedAt: timestampMs(),
    expiresAt: timestampMs().notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('refresh_tokens_token_hash_unique').on(table.tokenHash),
    index('refresh_tokens_session_idx').on(table.sessionId),
  ],
);

export const INVITE_ROLES = ['manager', 'cashier'] as const satisfies readonly Role[];
export type InviteRole = (typeof INVITE_ROLES)[number];

/** An invitation to join a business with a role; the link carries a token stored hashed. */
export const invites = pgTable(
  'invites',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    email: text().notNull(),
    role: text().$type<InviteRole>().notNull(),
    /** Given to the user on acceptance; empty = every location. */
    locationIds: uuid()
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    tokenHash: text().notNull(),
    invitedBy: uuid()
      .notNull()
      .references(() => users.id),
    expiresAt: timestampMs().notNull(),
    acceptedAt: timestampMs(),
    acceptedUserId: uuid().references(() => users.id),
    revokedAt: timestampMs(),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('invites_token_hash_unique').on(table.tokenHash),
    index('invites_business_idx').on(table.businessId, table.id),
    index('invites_business_email_idx').on(table.businessId, sql`lower(${table.email})`),
  ],
);

/** A single-use password reset (1 h), stored hashed. */
export const passwordResets = pgTable(
  'password_resets',
  {
    id: primaryId(),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    tokenHash: text().notNull(),
    expiresAt: timestampMs().notNull(),
    usedAt: timestampMs(),
    requestIp: text(),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('password_resets_token_hash_unique').on(table.tokenHash),
    index('password_resets_user_idx').on(table.userId),
  ],
);

/**
 * Who did what to which record, from where. Append-only: rows are written in the same
 * transaction as the change they describe and never updated.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    /** null when nobody was signed in (a password reset by link). */
    actorUserId: uuid().references(() => users.id),
    /** `user.registered`, `auth.login`, `user.role_changed`, `invite.created`, … */
    action: text().notNull(),
    targetType: text().notNull(),
    targetId: uuid(),
    /** Before/after values for changes; never secrets. */
    details: jsonb().$type<Record<string, unknown>>(),
    ip: text(),
    userAgent: text(),
    at: timestampMs()
      .notNull()
      .default(sql`now()`),
  },
  (table) => [index('audit_log_business_idx').on(table.businessId, table.at)],
);
