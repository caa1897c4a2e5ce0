import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, timestampMs } from './columns.js';

export const OUTBOX_KINDS = ['event', 'email', 'job'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/**
 * Work promised by a committed transaction: domain events (webhooks), emails and jobs.
 * Written in the same transaction as the change that caused it; the worker's relay moves
 * rows to BullMQ (job id = outbox id, so a re-relay is a no-op) and marks them dispatched.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    /** Stable id of the event or message, e.g. the webhook-id for events. */
    messageId: uuid().notNull().unique(),
    businessId: uuid(),
    kind: text().$type<OutboxKind>().notNull(),
    /** Event type (`sale.created`), email template (`invite`) or job name. */
    type: text().notNull(),
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    availableAt: timestampMs()
      .notNull()
      .default(sql`now()`),
    dispatchedAt: timestampMs(),
    attempts: integer().notNull().default(0),
    lastError: text(),
    /** W3C trace context of the request that wrote the row; the worker's job continues it. */
    traceContext: jsonb().$type<Record<string, string>>(),
    /**
     * When RabbitMQ confirmed this event (`kind = 'event'` only; AMQP_URL set). Null: not yet
     * published. Events written before this column existed read as 1970-01-01: they predate
     * the publisher and are never published (docs/events-rabbitmq.md).
     */
    amqpPublishedAt: timestampMs(),
  },
  (table) => [
    index('outbox_pending_idx')
      .on(table.id)
      .where(sql`${table.dispatchedAt} is null`),
    index('outbox_dispatched_idx')
      .on(table.dispatchedAt)
      .where(sql`${table.dispatchedAt} is not null`),
    // The AMQP publisher's queue: built CONCURRENTLY by a backfill (src/db/backfills.ts), not
    // by the migration, so a big outbox keeps taking writes meanwhile.
    index('outbox_amqp_pending_idx')
      .on(table.id)
      .where(sql`${table.kind} = 'event' and ${table.amqpPublishedAt} is null`),
  ],
);
