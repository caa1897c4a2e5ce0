import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs, updatedAt } from './columns.js';
import { businesses } from './tenancy.js';

export const ETIMS_ENVIRONMENTS = ['sandbox', 'production'] as const;
export type EtimsEnvironment = (typeof ETIMS_ENVIRONMENTS)[number];

/**
 * A business's KRA eTIMS settings (PUT /business/etims). `enabledAt` is the instant it was
 * last switched on: only sales that occurred at or after it are transmitted.
 */
export const etimsSettings = pgTable('etims_settings', {
  businessId: uuid()
    .primaryKey()
    .references(() => businesses.id),
  /** The taxpayer PIN (`tin`): never returned in full, never logged. */
  kraPin: text().notNull(),
  environment: text().$type<EtimsEnvironment>().notNull(),
  enabled: boolean().notNull().default(false),
  enabledAt: timestampMs(),
  /** Item codes handed out (KE2NTU0000001…): the business's own sequence. */
  lastItemSeq: integer().notNull().default(0),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * What `selectInitOsdcInfo` answered for one location (its branch `bhfId`): the device
 * identity printed on receipts, and the communication key (`cmcKey`), encrypted at rest.
 */
export const etimsDevices = pgTable(
  'etims_devices',
  {
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    locationId: uuid().notNull(),
    branchId: text().notNull(),
    /** KRA's taxpayer PIN the device was initialised for (a PIN change needs a new init). */
    kraPin: text().notNull(),
    environment: text().$type<EtimsEnvironment>().notNull(),
    sdcId: text(),
    mrcNo: text(),
    dvcId: text(),
    /** The rest of KRA's answer (names, addresses): not secret. */
    info: jsonb().$type<Record<string, unknown>>().notNull(),
    cmcKeyCiphertext: text().notNull(),
    initializedAt: timestampMs().notNull(),
  },
  (table) => [primaryKey({ columns: [table.businessId, table.locationId] })],
);

/** A product's eTIMS item code and the branches it is registered with (saveItem). */
export const etimsItems = pgTable(
  'etims_items',
  {
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    productId: uuid().notNull(),
    itemCode: text().notNull(),
    /** bhfIds whose saveItem holds the product's current version. */
    registeredBranches: text()
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    registeredVersion: integer().notNull().default(0),
    updatedAt: updatedAt(),
  },
  (table) => [
    primaryKey({ columns: [table.businessId, table.productId] }),
    uniqueIndex('etims_items_code_unique').on(table.businessId, table.itemCode),
  ],
);

/** The gap-free invoice number sequence of one branch (invcNo), taken in its own transaction. */
export const etimsInvoiceCounters = pgTable(
  'etims_invoice_counters',
  {
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    branchId: text().notNull(),
    lastNumber: bigint({ mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.businessId, table.branchId] })],
);

export const ETIMS_DOCUMENT_KINDS = ['sale', 'credit_note'] as const;
export type EtimsDocumentKind = (typeof ETIMS_DOCUMENT_KINDS)[number];
export const ETIMS_STATUSES = ['pending', 'signed', 'failed'] as const;
export type EtimsStatus = (typeof ETIMS_STATUSES)[number];

/**
 * One invoice (a sale) or credit note (a void; later a return) as sent to KRA. The invoice
 * number is assigned once, in its own committed transaction before the first transmission,
 * and never changes: a resend after a lost answer repeats it, so KRA answers 994.
 */
export const etimsDocuments = pgTable(
  'etims_documents',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    saleId: uuid().notNull(),
    /** Set for a return's credit note (the returns area). */
    returnId: uuid(),
    kind: text().$type<EtimsDocumentKind>().notNull(),
    status: text().$type<EtimsStatus>().notNull().default('pending'),
    branchId: text(),
    invoiceNumber: bigint({ mode: 'number' }),
    originalInvoiceNumber: bigint({ mode: 'number' }),
    attempts: integer().notNull().default(0),
    receiptNumber: bigint({ mode: 'number' }),
    totalReceiptNumber: bigint({ mode: 'number' }),
    internalData: text(),
    signature: text(),
    sdcId: text(),
    sdcDateTime: text(),
    /** KRA answered 994 (it already held the invoice): signed, but without the signature. */
    duplicate: boolean().notNull().default(false),
    errorCode: text(),
    errorMessage: text(),
    signedAt: timestampMs(),
    /** insertStockIO + saveStockMaster done for this document. */
    stockReportedAt: timestampMs(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('etims_documents_sale_kind_unique')
      .on(table.businessId, table.saleId, table.kind)
      .where(sql`${table.returnId} is null`),
    uniqueIndex('etims_documents_return_unique')
      .on(table.businessId, table.returnId)
      .where(sql`${table.returnId} is not null`),
    uniqueIndex('etims_documents_invoice_unique')
      .on(table.businessId, table.branchId, table.invoiceNumber)
      .where(sql`${table.invoiceNumber} is not null`),
    index('etims_documents_status_idx').on(table.businessId, table.status),
  ],
);

export type EtimsSettingsRow = typeof etimsSettings.$inferSelect;
export type EtimsDeviceRow = typeof etimsDevices.$inferSelect;
export type EtimsDocumentRow = typeof etimsDocuments.$inferSelect;
