import { index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, timestampMs } from './columns.js';

/**
 * Idempotency-Key records (IETF draft semantics). The primary key is the guarantee: two
 * concurrent first requests race on the insert and exactly one runs.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    businessId: uuid().notNull(),
    key: text().notNull(),
    method: text().notNull(),
    path: text().notNull(),
    /** sha256 of method, route and canonical body. */
    fingerprint: text().notNull(),
    /** Set when the first request finished with a storable answer; null while in flight. */
    responseStatus: integer(),
    responseBody: jsonb(),
    responseHeaders: jsonb().$type<Record<string, string>>(),
    /** An in-flight claim older than this is abandoned (crashed process) and may be retaken. */
    lockedUntil: timestampMs().notNull(),
    createdAt: createdAt(),
    expiresAt: timestampMs().notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.businessId, table.key] }),
    index('idempotency_keys_expires_idx').on(table.expiresAt),
  ],
);
