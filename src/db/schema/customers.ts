import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  foreignKey,
  index,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, money, timestampMs, updatedAt } from './columns.js';
import { businesses, users } from './tenancy.js';

export const CUSTOMER_ENTRY_TYPES = ['sale', 'payment', 'return', 'void'] as const;
export type CustomerEntryType = (typeof CUSTOMER_ENTRY_TYPES)[number];

export const CUSTOMER_PAYMENT_METHODS = ['cash', 'mpesa', 'card', 'other'] as const;
export type CustomerPaymentMethod = (typeof CUSTOMER_PAYMENT_METHODS)[number];

/**
 * A customer of the shop with an account (the debt book). The id may be made by the till
 * (offline). `balance` — what the customer owes, in cents — is kept in step with the ledger
 * by the one writer of entries (customers/customer-ledger.ts, and the sale write statement):
 * balance = Σ customer_ledger_entries.amount, `entryCount` = their number (each entry's
 * `position` is the count after it, so the ledger has one order).
 */
export const customers = pgTable(
  'customers',
  {
    id: uuid().primaryKey(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    name: text().notNull(),
    /** Normalised like M-Pesa numbers (2547XXXXXXXX / 2541XXXXXXXX). */
    phone: text(),
    email: text(),
    kraPin: text(),
    /** Cents; null = no limit. */
    creditLimit: money(),
    note: text(),
    balance: money().notNull().default(0),
    entryCount: bigint({ mode: 'number' }).notNull().default(0),
    /** sha256 of the creating request's canonical body: a replay with another body is refused. */
    requestHash: text().notNull(),
    /** Set when the person was erased (Kenya Data Protection Act 2019); the facts stay. */
    deletedAt: timestampMs(),
    createdBy: uuid()
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    unique('customers_id_business_unique').on(table.id, table.businessId),
    index('customers_business_idx').on(table.businessId, table.id),
    index('customers_business_phone_idx')
      .on(table.businessId, table.phone)
      .where(sql`${table.phone} is not null`),
  ],
);

/**
 * The customer's account, one row per change: `amount` is signed (a credit sale adds what
 * the customer owes, a payment, a credit refund or a void takes it off); `balanceAfter` is
 * the balance right after it; `position` orders a customer's entries (1, 2, 3…).
 */
export const customerLedgerEntries = pgTable(
  'customer_ledger_entries',
  {
    id: uuid().primaryKey(),
    businessId: uuid().notNull(),
    customerId: uuid().notNull(),
    position: bigint({ mode: 'number' }).notNull(),
    type: text().$type<CustomerEntryType>().notNull(),
    amount: money().notNull(),
    balanceAfter: money().notNull(),
    saleId: uuid(),
    returnId: uuid(),
    paymentId: uuid(),
    createdBy: uuid().notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    foreignKey({
      name: 'customer_ledger_customer_business_fk',
      columns: [table.customerId, table.businessId],
      foreignColumns: [customers.id, customers.businessId],
    }),
    uniqueIndex('customer_ledger_customer_position_unique').on(table.customerId, table.position),
    index('customer_ledger_business_sale_idx')
      .on(table.businessId, table.saleId)
      .where(sql`${table.saleId} is not null`),
  ],
);

/** The unique index that records a payment on account once per (business, clientRequestId). */
export const CUSTOMER_PAYMENTS_CLIENT_REQUEST_UNIQUE = 'customer_payments_client_request_unique';

/**
 * Money received on a customer's account. `shiftId` names the till shift that took it (no
 * foreign key: shifts are their own area); a shift's expected cash adds its cash rows.
 */
export const customerPayments = pgTable(
  'customer_payments',
  {
    id: uuid().primaryKey(),
    businessId: uuid().notNull(),
    customerId: uuid().notNull(),
    clientRequestId: uuid().notNull(),
    requestHash: text().notNull(),
    amount: money().notNull(),
    method: text().$type<CustomerPaymentMethod>().notNull(),
    reference: text(),
    occurredAt: timestampMs().notNull(),
    shiftId: uuid(),
    /** An M-Pesa receipt it names was claimed elsewhere or differs in amount. */
    needsReview: boolean().notNull().default(false),
    createdBy: uuid().notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    foreignKey({
      name: 'customer_payments_customer_business_fk',
      columns: [table.customerId, table.businessId],
      foreignColumns: [customers.id, customers.businessId],
    }),
    uniqueIndex(CUSTOMER_PAYMENTS_CLIENT_REQUEST_UNIQUE).on(
      table.businessId,
      table.clientRequestId,
    ),
    index('customer_payments_shift_idx')
      .on(table.businessId, table.shiftId)
      .where(sql`${table.shiftId} is not null`),
  ],
);

export type CustomerRow = typeof customers.$inferSelect;
export type CustomerLedgerEntryRow = typeof customerLedgerEntries.$inferSelect;
export type CustomerPaymentRow = typeof customerPayments.$inferSelect;
