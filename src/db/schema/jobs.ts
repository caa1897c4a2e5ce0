import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs, updatedAt } from './columns.js';
import { businesses } from './tenancy.js';

/** An integrator's URL that receives signed events (API.md "Webhooks"). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    url: text().notNull(),
    description: text(),
    /** Event names, or ['*'] for every event. */
    events: jsonb().$type<string[]>().notNull(),
    /** The `whsec_…` secret, AES-256-GCM encrypted with WEBHOOK_SECRET_KEY. */
    secretCiphertext: text().notNull(),
    enabled: boolean().notNull().default(true),
    disabledAt: timestampMs(),
    disabledReason: text(),
    /** First failed attempt since the last success; drives the 5-day auto-disable. */
    failingSince: timestampMs(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [index('webhook_endpoints_business_idx').on(table.businessId, table.id)],
);

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event for one endpoint. `messageId` is the outbox message id: the stable webhook-id. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    endpointId: uuid()
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    messageId: uuid().notNull(),
    eventType: text().notNull(),
    /** When the event happened (the body's `timestamp`). */
    eventAt: timestampMs().notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    status: text().$type<DeliveryStatus>().notNull().default('pending'),
    nextAttemptAt: timestampMs(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('webhook_deliveries_endpoint_message_unique').on(table.endpointId, table.messageId),
    index('webhook_deliveries_endpoint_idx').on(table.endpointId, table.id),
  ],
);

/** Every HTTP attempt of a delivery, for the delivery log. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    deliveryId: uuid()
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    at: timestampMs().notNull(),
    status: text().$type<'succeeded' | 'failed'>().notNull(),
    responseStatus: integer(),
    durationMs: integer().notNull(),
    error: text(),
  },
  (table) => [index('webhook_attempts_delivery_idx').on(table.deliveryId, table.id)],
);

/** Jobs that used every attempt (or failed permanently): kept for an operator to list and retry. */
export const deadJobs = pgTable(
  'dead_jobs',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    queue: text().notNull(),
    jobName: text().notNull(),
    jobId: text().notNull(),
    data: jsonb().$type<unknown>().notNull(),
    error: text().notNull(),
    attempts: integer().notNull(),
    failedAt: timestampMs().notNull(),
    retriedAt: timestampMs(),
  },
  (table) => [
    index('dead_jobs_open_idx')
      .on(table.failedAt)
      .where(sql`${table.retriedAt} is null`),
  ],
);

export const EMAIL_STATUSES = ['sent', 'failed'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/** Every email the worker tried to send, keyed by the outbox message id (dedupes re-runs). */
export const emailLog = pgTable(
  'email_log',
  {
    id: primaryId(),
    messageId: uuid().notNull().unique(),
    businessId: uuid(),
    template: text().notNull(),
    to: text().notNull(),
    status: text().$type<EmailStatus>().notNull(),
    error: text(),
    providerMessageId: text(),
    attempts: integer().notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [index('email_log_created_idx').on(table.createdAt)],
);

/** Data backfills run after the migrations in batches (src/db/backfills.ts): done once. */
export const dataBackfills = pgTable('data_backfills', {
  name: text().primaryKey(),
  doneAt: timestampMs()
    .notNull()
    .default(sql`now()`),
});
