import { sql } from 'drizzle-orm';
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
import { customers } from './customers.js';
import { businesses, locations, users } from './tenancy.js';

export const SALE_STATUSES = ['completed', 'voided'] as const;
export type SaleStatus = (typeof SALE_STATUSES)[number];

/** `credit`: on the customer's account (the debt book; the sale names its customer). */
export const PAYMENT_METHODS = ['cash', 'mpesa', 'card', 'other', 'credit'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** Money in sales is bigint cents: 1,000,000 units × a large price overflows int4. */

/**
 * The per-business sale counter. Incremented in the sale's own transaction, so its row lock
 * is held until commit and a rolled-back sale gives its number back: gap-free, unlike a
 * sequence.
 */
export const saleCounters = pgTable('sale_counters', {
  businessId: uuid()
    .primaryKey()
    .references(() => businesses.id),
  lastNumber: bigint({ mode: 'number' }).notNull(),
});

/** The unique index that records a sale once per (business, clientRequestId). */
export const SALES_CLIENT_REQUEST_UNIQUE = 'sales_client_request_unique';

/** A sale as accepted: a fact, recorded exactly once per (business, clientRequestId). */
export const sales = pgTable(
  'sales',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    /** Made by the POS when the sale was rung up; the idempotency guarantee. */
    clientRequestId: uuid().notNull(),
    /** sha256 of the canonical request body: a replay with another body is refused. */
    requestHash: text().notNull(),
    number: bigint({ mode: 'number' }).notNull(),
    receiptNumber: text(),
    cashierId: uuid()
      .notNull()
      .references(() => users.id),
    /** The branch that sold; null only on sales older than branches until the backfill. */
    locationId: uuid(),
    /**
     * The till shift the sale was rung up in, as the device sent it. No foreign key: a sale
     * is never refused because of its shift (it may arrive before the shift does); it joins
     * its shift within its own business (src/modules/shifts/).
     */
    shiftId: uuid(),
    occurredAt: timestampMs().notNull(),
    receivedAt: timestampMs().notNull(),
    status: text().$type<SaleStatus>().notNull().default('completed'),
    subtotal: money().notNull(),
    discount: money().notNull(),
    tax: money().notNull(),
    total: money().notNull(),
    change: money().notNull(),
    customerPhone: text(),
    /** The customer with an account (customers area); required by a `credit` payment. */
    customerId: uuid(),
    note: text(),
    voidedAt: timestampMs(),
    voidReason: text(),
    voidedBy: uuid().references(() => users.id),
    /** Σ the totals of this sale's returns (returns.ts), kept in the return's transaction. */
    returnedTotal: money().notNull().default(0),
  },
  (table) => [
    // The target of lines' and payments' (sale, business) foreign keys.
    unique('sales_id_business_unique').on(table.id, table.businessId),
    foreignKey({
      name: 'sales_location_business_fk',
      columns: [table.locationId, table.businessId],
      foreignColumns: [locations.id, locations.businessId],
    }),
    foreignKey({
      name: 'sales_customer_business_fk',
      columns: [table.customerId, table.businessId],
      foreignColumns: [customers.id, customers.businessId],
    }),
    uniqueIndex(SALES_CLIENT_REQUEST_UNIQUE).on(table.businessId, table.clientRequestId),
    uniqueIndex('sales_number_unique').on(table.businessId, table.number),
    index('sales_business_occurred_idx').on(table.businessId, table.occurredAt, table.id),
    // Built concurrently after the migrations (src/db/backfills.ts), not in 0007's transaction.
    index('sales_shift_idx')
      .on(table.businessId, table.shiftId)
      .where(sql`${table.shiftId} is not null`),
    index('sales_cashier_occurred_idx').on(
      table.businessId,
      table.cashierId,
      table.occurredAt,
      table.id,
    ),
  ],
);

export const saleLines = pgTable(
  'sale_lines',
  {
    id: primaryId(),
    // Checked by composite keys below: the sale and the product are the line's business's.
    saleId: uuid().notNull(),
    businessId: uuid().notNull(),
    productId: uuid().notNull(),
    position: integer().notNull(),
    /** Snapshots at receipt: the catalog may change later, the receipt may not. */
    name: text().notNull(),
    sku: text(),
    quantity: quantity().notNull(),
    /** What the customer paid per unit (the device's price, possibly stale). */
    unitPrice: money().notNull(),
    /** The product's price when the server received the sale. */
    catalogPrice: money().notNull(),
    taxRate: integer().notNull(),
    discount: money().notNull(),
    /** This line's share of the sale discount (largest remainder). */
    saleDiscountShare: money().notNull(),
    tax: money().notNull(),
    total: money().notNull(),
    /** Σ the quantities returned of this line; never more than `quantity` (guarded update). */
    returnedQuantity: quantity().notNull().default(0),
  },
  (table) => [
    // Two checks per line instead of three, and no line can join a sale or a product of
    // another business (foreign-key checks are most of a sale's database time: bench/README).
    foreignKey({
      name: 'sale_lines_sale_business_fk',
      columns: [table.saleId, table.businessId],
      foreignColumns: [sales.id, sales.businessId],
    }),
    foreignKey({
      name: 'sale_lines_product_business_fk',
      columns: [table.productId, table.businessId],
      foreignColumns: [products.id, products.businessId],
    }),
    uniqueIndex('sale_lines_sale_position_unique').on(table.saleId, table.position),
    index('sale_lines_product_idx').on(table.businessId, table.productId),
  ],
);

export const salePayments = pgTable(
  'sale_payments',
  {
    id: primaryId(),
    // Checked by one composite key to the sale (of this business), below.
    saleId: uuid().notNull(),
    businessId: uuid().notNull(),
    position: integer().notNull(),
    method: text().$type<PaymentMethod>().notNull(),
    amount: money().notNull(),
    reference: text(),
    /**
     * M-Pesa at the till (modules/till): this payment names a receipt another sale already
     * claimed, or for another amount; a person must look.
     */
    needsReview: boolean().notNull().default(false),
    createdAt: createdAt(),
  },
  (table) => [
    foreignKey({
      name: 'sale_payments_sale_business_fk',
      columns: [table.saleId, table.businessId],
      foreignColumns: [sales.id, sales.businessId],
    }),
    uniqueIndex('sale_payments_sale_position_unique').on(table.saleId, table.position),
    index('sale_payments_reference_idx')
      .on(table.businessId, table.reference)
      .where(sql`${table.reference} is not null`),
  ],
);

/** One row type per table, as Drizzle reads it: what reads return and what a sale's draft builds. */
export type SaleRow = typeof sales.$inferSelect;
export type SaleLineRow = typeof saleLines.$inferSelect;
export type SalePaymentRow = typeof salePayments.$inferSelect;
