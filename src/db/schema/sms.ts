import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, timestampMs, updatedAt } from './columns.js';
import { businesses } from './tenancy.js';

export const SMS_KINDS = ['receipt', 'reminder'] as const;
export type SmsKind = (typeof SMS_KINDS)[number];

/**
 * queued (in the outbox / worker) → sent (Africa's Talking accepted it) → delivered or
 * failed (the delivery report); failed also when AT refused it or retries ran out.
 */
export const SMS_STATUSES = ['queued', 'sent', 'delivered', 'failed'] as const;
export type SmsStatus = (typeof SMS_STATUSES)[number];

/** Every SMS the business asked for, with what became of it. */
export const smsMessages = pgTable(
  'sms_messages',
  {
    id: uuid().primaryKey(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    kind: text().$type<SmsKind>().notNull(),
    /** Normalised 2547XXXXXXXX / 2541XXXXXXXX. */
    phone: text().notNull(),
    message: text().notNull(),
    saleId: uuid(),
    customerId: uuid(),
    status: text().$type<SmsStatus>().notNull().default('queued'),
    /** Africa's Talking's messageId, the key of its delivery reports. */
    providerMessageId: text(),
    /** As AT bills it, e.g. "KES 0.8000". */
    cost: text(),
    /** AT's status or failure reason when not delivered. */
    failureReason: text(),
    attempts: integer().notNull().default(0),
    requestedBy: uuid().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    sentAt: timestampMs(),
    deliveredAt: timestampMs(),
  },
  (table) => [
    index('sms_messages_business_idx').on(table.businessId, table.id),
    uniqueIndex('sms_messages_provider_message_unique')
      .on(table.providerMessageId)
      .where(sql`${table.providerMessageId} is not null`),
  ],
);

export type SmsMessageRow = typeof smsMessages.$inferSelect;
