import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs, updatedAt } from './columns.js';
import { businesses, users, type SubscriptionPlan } from './tenancy.js';

export const PAYMENT_PURPOSES = ['subscription', 'sale'] as const;
export type PaymentPurpose = (typeof PAYMENT_PURPOSES)[number];

export const PAYMENT_STATUSES = [
  'pending',
  'succeeded',
  'failed',
  'cancelled',
  'expired',
  'needs_review',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export type PaymentConfirmation = 'callback' | 'query';

/**
 * One STK push. Only pending → terminal transitions, under SELECT … FOR UPDATE; the unique
 * CheckoutRequestID and MpesaReceiptNumber make a replayed callback a no-op.
 */
export const payments = pgTable(
  'payments',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    purpose: text().$type<PaymentPurpose>().notNull(),
    plan: text().$type<SubscriptionPlan>(),
    /** Cents, whole shillings. */
    amount: integer().notNull(),
    phoneNumber: text().notNull(),
    status: text().$type<PaymentStatus>().notNull().default('pending'),
    merchantRequestId: text(),
    /** Null only when Daraja never accepted the request. */
    checkoutRequestId: text().unique('payments_checkout_request_id_unique'),
    mpesaReceiptNumber: text().unique('payments_mpesa_receipt_number_unique'),
    resultCode: integer(),
    resultDesc: text(),
    customerMessage: text(),
    /** sha256 of the unguessable token in this payment's CallBackURL. */
    callbackTokenHash: text().notNull().unique('payments_callback_token_hash_unique'),
    confirmedBy: text().$type<PaymentConfirmation>(),
    reference: text(),
    createdBy: uuid()
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: timestampMs(),
    lastQueriedAt: timestampMs(),
    queryAttempts: integer().notNull().default(0),
    /**
     * Asked through the business's own Daraja app and shortcode (sale payments since M-Pesa
     * at the till, modules/till); the status query must use the same credentials.
     */
    businessCredentials: boolean().notNull().default(false),
  },
  (table) => [
    index('payments_business_idx').on(table.businessId, table.createdAt),
    index('payments_pending_idx')
      .on(table.createdAt)
      .where(sql`${table.status} = 'pending'`),
  ],
);

/**
 * Every callback Safaricom POSTed to a known token, stored raw before we answer, then
 * applied by the worker. Kept forever: the audit trail for "did M-Pesa say we were paid?".
 */
export const mpesaCallbackInbox = pgTable(
  'mpesa_callback_inbox',
  {
    id: primaryId(),
    paymentId: uuid()
      .notNull()
      .references(() => payments.id),
    rawPayload: jsonb().notNull(),
    sourceIp: text(),
    receivedAt: createdAt(),
    /** CheckoutRequestID found in the payload, once parsed. */
    checkoutRequestId: text(),
    processedAt: timestampMs(),
    /** What applying it did: applied, duplicate, needs_review, unknown_checkout, malformed… */
    outcome: text(),
  },
  (table) => [
    index('mpesa_callback_inbox_payment_idx').on(table.paymentId),
    index('mpesa_callback_inbox_unprocessed_idx')
      .on(table.receivedAt)
      .where(sql`${table.processedAt} is null`),
  ],
);
