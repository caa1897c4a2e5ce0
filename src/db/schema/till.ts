import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs, updatedAt } from './columns.js';
import { businesses } from './tenancy.js';

// M-Pesa at the till: each business is paid into its own till or paybill (C2B).

export const TILL_ENVIRONMENTS = ['sandbox', 'production'] as const;
export type TillEnvironment = (typeof TILL_ENVIRONMENTS)[number];
export const TILL_TYPES = ['paybill', 'till'] as const;
export type TillType = (typeof TILL_TYPES)[number];

/**
 * A business's own Daraja app and shortcode. The consumer key/secret and passkey are
 * AES-256-GCM ciphertexts (webhook-secret.ts, WEBHOOK_SECRET_KEY); the C2B callback token
 * is kept as a hash (looked up) and a ciphertext (shown to the owner inside the URLs).
 */
export const businessMpesaSettings = pgTable('business_mpesa_settings', {
  businessId: uuid()
    .primaryKey()
    .references(() => businesses.id),
  environment: text().$type<TillEnvironment>().notNull(),
  type: text().$type<TillType>().notNull(),
  shortcode: text().notNull(),
  tillNumber: text(),
  consumerKeyCiphertext: text().notNull(),
  consumerSecretCiphertext: text().notNull(),
  passkeyCiphertext: text().notNull(),
  c2bTokenHash: text().notNull().unique('business_mpesa_settings_c2b_token_hash_unique'),
  c2bTokenCiphertext: text().notNull(),
  c2bRegisteredAt: timestampMs(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const C2B_CALLBACK_KINDS = ['validation', 'confirmation'] as const;
export type C2bCallbackKind = (typeof C2B_CALLBACK_KINDS)[number];

/**
 * Every validation/confirmation Safaricom POSTed to a known business token, stored raw
 * before we answer, then applied by the worker (till.job.ts). Kept as evidence.
 */
export const c2bInbox = pgTable(
  'c2b_inbox',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    kind: text().$type<C2bCallbackKind>().notNull(),
    rawPayload: jsonb().notNull(),
    sourceIp: text(),
    receivedAt: createdAt(),
    processedAt: timestampMs(),
    /** applied, duplicate, malformed, wrong_shortcode, validation… */
    outcome: text(),
  },
  (table) => [
    index('c2b_inbox_business_idx').on(table.businessId, table.receivedAt),
    index('c2b_inbox_unprocessed_idx')
      .on(table.receivedAt)
      .where(sql`${table.processedAt} is null`),
  ],
);

/**
 * One confirmed payment into a business's till: each TransID once per business. A sale
 * payment naming the TransID claims it (sale_id, sale_payment_id), at most one sale.
 */
export const c2bPayments = pgTable(
  'c2b_payments',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    transId: text().notNull(),
    /** Cents. */
    amount: bigint({ mode: 'number' }).notNull(),
    /** As Safaricom sent it: masked or hashed. */
    msisdn: text().notNull(),
    firstName: text().notNull(),
    billRefNumber: text().notNull(),
    /** YYYYMMDDHHmmss, East Africa Time, as sent. */
    transTime: text().notNull(),
    shortcode: text().notNull(),
    transactionType: text().notNull(),
    inboxId: uuid().notNull(),
    saleId: uuid(),
    salePaymentId: uuid(),
    /** The payment on account (customer_payments) that claimed it, when not a sale. */
    customerPaymentId: uuid(),
    claimedAt: timestampMs(),
    receivedAt: createdAt(),
  },
  (table) => [
    uniqueIndex('c2b_payments_business_trans_id_unique').on(table.businessId, table.transId),
    index('c2b_payments_business_received_idx').on(table.businessId, table.receivedAt, table.id),
  ],
);

export type BusinessMpesaSettingsRow = typeof businessMpesaSettings.$inferSelect;
export type C2bInboxRow = typeof c2bInbox.$inferSelect;
export type C2bPaymentRow = typeof c2bPayments.$inferSelect;
