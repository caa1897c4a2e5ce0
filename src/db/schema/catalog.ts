import { sql } from 'drizzle-orm';
import {
  boolean,
  foreignKey,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs, updatedAt } from './columns.js';
import { businesses, locations, users } from './tenancy.js';

/** Quantities: up to 3 decimals (0.5 kg), parsed to JS numbers (see db/client.ts). */
export const quantity = (name?: string) =>
  name === undefined
    ? numeric({ precision: 14, scale: 3, mode: 'number' })
    : numeric(name, { precision: 14, scale: 3, mode: 'number' });

export const categories = pgTable(
  'categories',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    name: text().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('categories_business_idx').on(table.businessId, table.name),
    // One "Drinks" per shop, whatever the case; the constraint name ends with the field so a
    // clash is answered 409 naming `name`.
    uniqueIndex('categories_business_name_unique').on(table.businessId, sql`lower(${table.name})`),
  ],
);

export const products = pgTable(
  'products',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    categoryId: uuid().references(() => categories.id),
    name: text().notNull(),
    sku: text(),
    barcode: text(),
    description: text(),
    /** Minor units (cents), VAT-inclusive. */
    price: integer().notNull(),
    cost: integer(),
    /** Basis points: 1600 = 16%. */
    taxRate: integer().notNull().default(0),
    /**
     * eTIMS tax type A–E, consistent with taxRate (catalog tax-type rules). Null on products
     * older than eTIMS: read as derived from taxRate (1600 → B, 800 → E, 0 → A).
     */
    taxType: text(),
    /** eTIMS item classification code (itemClsCd), when the shop set one. */
    etimsItemClassCode: text(),
    unit: text().notNull().default('each'),
    trackStock: boolean().notNull().default(true),
    lowStockThreshold: quantity(),
    /** Storage key of the current image (content-hash name); the URL is derived from it. */
    imageKey: text(),
    archived: boolean().notNull().default(false),
    /** Bumped by every catalog edit (optimistic concurrency), not by stock changes. */
    version: integer().notNull().default(1),
    createdAt: createdAt(),
    /**
     * The stamp of the last catalog edit only. What the API presents as `updatedAt` (and the
     * delta sync orders by) is product_stock.changed_at, which stock changes move too.
     */
    updatedAt: updatedAt(),
  },
  (table) => [
    // The target of the ledger's and sale lines' (product, business) foreign keys: a row
    // can only name a product of its own business (tenant isolation held by the database).
    unique('products_id_business_unique').on(table.id, table.businessId),
    // sku and barcode are unique among a business's non-archived products: archiving a
    // product frees its codes for the product that replaces it (what a shop expects when a
    // supplier reuses a barcode), while archived tombstones keep theirs for history.
    uniqueIndex('products_business_sku_unique')
      .on(table.businessId, table.sku)
      .where(sql`${table.archived} = false and ${table.sku} is not null`),
    uniqueIndex('products_business_barcode_unique')
      .on(table.businessId, table.barcode)
      .where(sql`${table.archived} = false and ${table.barcode} is not null`),
    // GET /products?q= is `ilike '%q%'` on each column; trigram GIN indexes keep it fast at
    // 100k products (needs the pg_trgm extension: drizzle/0001_pg_trgm.sql).
    index('products_name_trgm_idx').using('gin', table.name.op('gin_trgm_ops')),
    index('products_sku_trgm_idx').using('gin', table.sku.op('gin_trgm_ops')),
    index('products_barcode_trgm_idx').using('gin', table.barcode.op('gin_trgm_ops')),
  ],
);

export const STOCK_MOVEMENT_TYPES = [
  'sale',
  'void',
  'receive',
  'adjust',
  'count',
  'transfer_out',
  'transfer_in',
  'return',
] as const;
export type StockMovementType = (typeof STOCK_MOVEMENT_TYPES)[number];

/**
 * A product's total stock and the stamp of its last change, one narrow row per product
 * (created with the product by the products_stock_row trigger, drizzle/0014).
 *
 * Why not columns of products: every sale and stock movement changes them, and an UPDATE of
 * the wide product row (an indexed column changes, so never HOT) wrote a new tuple and an
 * entry in each of its indexes, three trigram GIN among them. Here a stock change writes a
 * small tuple and two b-tree entries (bench/README.md, "Narrow product stock").
 *
 * `changedAt` is the product's `updatedAt` as the API presents it: every catalog edit and
 * every stock change sets it to its catalog_write_stamp, so it is unique per business and
 * commit-ordered, and GET /products?updatedSince= pages by (changed_at, product_id) on
 * product_stock_business_changed_idx.
 */
export const productStock = pgTable(
  'product_stock',
  {
    businessId: uuid().notNull(),
    productId: uuid().notNull(),
    /** The sum of this product's stock_movements.delta (all locations), set in the same transaction. */
    quantity: quantity().notNull().default(0),
    changedAt: timestampMs().notNull(),
  },
  (table) => [
    primaryKey({ name: 'product_stock_pkey', columns: [table.businessId, table.productId] }),
    foreignKey({
      name: 'product_stock_product_business_fk',
      columns: [table.productId, table.businessId],
      foreignColumns: [products.id, products.businessId],
    }),
    index('product_stock_business_changed_idx').on(
      table.businessId,
      table.changedAt,
      table.productId,
    ),
  ],
);

/** The stock ledger: the truth. product_stock.quantity is its cached sum. */
export const stockMovements = pgTable(
  'stock_movements',
  {
    id: primaryId(),
    // Both checked by one composite key to the product (of this business), below.
    businessId: uuid().notNull(),
    productId: uuid().notNull(),
    type: text().$type<StockMovementType>().notNull(),
    /** The signed change this movement made. */
    delta: quantity().notNull(),
    quantityAfter: quantity().notNull(),
    unitCost: integer(),
    note: text(),
    saleId: uuid(),
    /**
     * Where the stock moved. Nullable only for rows written before branches existed, until
     * the batched backfill (src/db/backfills.ts) gives them their business's Main; every
     * writer sets it.
     */
    locationId: uuid(),
    /** Pairs a transfer's transfer_out and transfer_in movements. */
    transferId: uuid(),
    createdBy: uuid()
      .notNull()
      .references(() => users.id),
    createdAt: timestampMs()
      .notNull()
      .default(sql`now()`),
  },
  (table) => [
    // One check per movement instead of two (product, business), and the product must be
    // the movement's business's: a sale writes three movements, a sync batch hundreds.
    foreignKey({
      name: 'stock_movements_product_business_fk',
      columns: [table.productId, table.businessId],
      foreignColumns: [products.id, products.businessId],
    }),
    foreignKey({
      name: 'stock_movements_location_business_fk',
      columns: [table.locationId, table.businessId],
      foreignColumns: [locations.id, locations.businessId],
    }),
    index('stock_movements_product_idx').on(
      table.businessId,
      table.productId,
      table.createdAt,
      table.id,
    ),
    index('stock_movements_business_idx').on(table.businessId, table.createdAt, table.id),
    index('stock_movements_sale_idx')
      .on(table.saleId)
      .where(sql`${table.saleId} is not null`),
  ],
);

/**
 * The stock of a product at a location: the sum of that pair's movements' deltas. Narrow
 * on purpose: a stock change rewrites this row, not the wide product row. A pair with no
 * row has never been stocked there (level 0). product_stock.quantity is the total.
 */
export const stockLevels = pgTable(
  'stock_levels',
  {
    businessId: uuid().notNull(),
    productId: uuid().notNull(),
    locationId: uuid().notNull(),
    quantity: quantity().notNull(),
    updatedAt: timestampMs()
      .notNull()
      .default(sql`now()`),
  },
  (table) => [
    primaryKey({
      name: 'stock_levels_pkey',
      columns: [table.businessId, table.productId, table.locationId],
    }),
    foreignKey({
      name: 'stock_levels_product_business_fk',
      columns: [table.productId, table.businessId],
      foreignColumns: [products.id, products.businessId],
    }),
    foreignKey({
      name: 'stock_levels_location_business_fk',
      columns: [table.locationId, table.businessId],
      foreignColumns: [locations.id, locations.businessId],
    }),
  ],
);

/** One row type per table, as Drizzle reads it. */
export type ProductRow = typeof products.$inferSelect;
export type StockMovementRow = typeof stockMovements.$inferSelect;
