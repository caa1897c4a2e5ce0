import {
  bigint,
  boolean,
  foreignKey,
  index,
  integer,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, money, primaryId, timestampMs } from './columns.js';
import { products, quantity } from './catalog.js';
import { PAYMENT_METHODS, saleLines, sales } from './sales.js';
import { businesses, locations, users } from './tenancy.js';

/** A refund goes back by any method a sale can be paid by (credit: to the customer's account). */
export const REFUND_METHODS = PAYMENT_METHODS;
export type RefundMethod = (typeof REFUND_METHODS)[number];

/**
 * The per-business return counter, like sale_counters: incremented in the return's own
 * transaction, so a rolled-back return gives its number back (gap-free).
 */
export const returnCounters = pgTable('return_counters', {
  businessId: uuid()
    .primaryKey()
    .references(() => businesses.id),
  lastNumber: bigint({ mode: 'number' }).notNull(),
});

/** The unique index that records a return once per (business, clientRequestId). */
export const RETURNS_CLIENT_REQUEST_UNIQUE = 'returns_client_request_unique';

/** A return (credit note) of some lines of one sale: a fact, recorded once per clientRequestId. */
export const returns = pgTable(
  'returns',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    clientRequestId: uuid().notNull(),
    /** sha256 of the canonical request body: a replay with another body is refused. */
    requestHash: text().notNull(),
    number: bigint({ mode: 'number' }).notNull(),
    saleId: uuid().notNull(),
    cashierId: uuid()
      .notNull()
      .references(() => users.id),
    locationId: uuid().notNull(),
    /** The till shift it happened in: no foreign key, a return is never refused for its shift. */
    shiftId: uuid(),
    occurredAt: timestampMs().notNull(),
    receivedAt: timestampMs().notNull(),
    reason: text().notNull(),
    subtotal: money().notNull(),
    tax: money().notNull(),
    total: money().notNull(),
  },
  (table) => [
    unique('returns_id_business_unique').on(table.id, table.businessId),
    foreignKey({
      name: 'returns_sale_business_fk',
      columns: [table.saleId, table.businessId],
      foreignColumns: [sales.id, sales.businessId],
    }),
    foreignKey({
      name: 'returns_location_business_fk',
      columns: [table.locationId, table.businessId],
      foreignColumns: [locations.id, locations.businessId],
    }),
    uniqueIndex(RETURNS_CLIENT_REQUEST_UNIQUE).on(table.businessId, table.clientRequestId),
    uniqueIndex('returns_number_unique').on(table.businessId, table.number),
    index('returns_business_occurred_idx').on(table.businessId, table.occurredAt, table.id),
    index('returns_sale_idx').on(table.saleId),
  ],
);

export const returnLines = pgTable(
  'return_lines',
  {
    id: primaryId(),
    returnId: uuid().notNull(),
    businessId: uuid().notNull(),
    /** The sold line (checked to be the return's sale's by the use case, under its lock). */
    saleLineId: uuid()
      .notNull()
      .references(() => saleLines.id),
    productId: uuid().notNull(),
    position: integer().notNull(),
    /** Snapshots of the sold line. */
    name: text().notNull(),
    quantity: quantity().notNull(),
    unitPrice: money().notNull(),
    taxRate: integer().notNull(),
    tax: money().notNull(),
    total: money().notNull(),
    /** Whether the quantity went back into stock (a `return` movement). */
    restocked: boolean().notNull(),
  },
  (table) => [
    foreignKey({
      name: 'return_lines_return_business_fk',
      columns: [table.returnId, table.businessId],
      foreignColumns: [returns.id, returns.businessId],
    }),
    foreignKey({
      name: 'return_lines_product_business_fk',
      columns: [table.productId, table.businessId],
      foreignColumns: [products.id, products.businessId],
    }),
    uniqueIndex('return_lines_return_position_unique').on(table.returnId, table.position),
    index('return_lines_sale_line_idx').on(table.saleLineId),
  ],
);

export const returnRefunds = pgTable(
  'return_refunds',
  {
    id: primaryId(),
    returnId: uuid().notNull(),
    businessId: uuid().notNull(),
    position: integer().notNull(),
    method: text().$type<RefundMethod>().notNull(),
    amount: money().notNull(),
    reference: text(),
    createdAt: createdAt(),
  },
  (table) => [
    foreignKey({
      name: 'return_refunds_return_business_fk',
      columns: [table.returnId, table.businessId],
      foreignColumns: [returns.id, returns.businessId],
    }),
    uniqueIndex('return_refunds_return_position_unique').on(table.returnId, table.position),
  ],
);

export type ReturnRow = typeof returns.$inferSelect;
export type ReturnLineRow = typeof returnLines.$inferSelect;
export type ReturnRefundRow = typeof returnRefunds.$inferSelect;
