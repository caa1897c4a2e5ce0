import { and, asc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { categories, products, productStock } from '../../db/schema/index.js';

/** A product's level at one location (only locations where it was ever stocked). */
export interface StockEntry {
  locationId: string;
  quantity: number;
}

/**
 * The product's stock per location, by location id, read with the row (one index lookup on
 * stock_levels' primary key). Rendered the same way by product-page.statement.ts.
 */
const stockOfProduct = sql<StockEntry[]>`(
  select coalesce(json_agg(json_build_object('locationId', sl.location_id, 'quantity', sl.quantity)
    order by sl.location_id), '[]'::json)
  from stock_levels sl
  where sl.business_id = ${products.businessId} and sl.product_id = ${products.id})`;

/**
 * What toProduct presents: every product column, the total and the change stamp from
 * product_stock (the presented `updatedAt` is product_stock.changed_at, which stock changes
 * move too; products.updated_at is the last edit only), and `stock`. Selected from
 * products joined to their product_stock row (productStockOfProduct).
 */
export const productWithStock = {
  ...getTableColumns(products),
  stockQuantity: productStock.quantity,
  updatedAt: productStock.changedAt,
  stock: stockOfProduct,
};

/** The join condition of a product and its product_stock row (every product has one). */
export const productStockOfProduct = and(
  eq(productStock.businessId, products.businessId),
  eq(productStock.productId, products.id),
);

export type ProductRow = typeof products.$inferSelect & {
  stockQuantity: number;
  stock: StockEntry[];
};
export type CategoryRow = typeof categories.$inferSelect;
export type NewProductRow = typeof products.$inferInsert;
export type ProductChanges = Partial<
  Omit<NewProductRow, 'id' | 'businessId' | 'version' | 'createdAt'>
>;

/**
 * Serialises catalog writes of one business and returns the first `updatedAt` stamp.
 *
 * Why: `GET /products?updatedSince=T` must never miss a change. With `now()` (transaction
 * start) two transactions can commit out of timestamp order: B stamps 10:00:00.005 and
 * commits, a device syncs and remembers .005, then A (stamped .003, started earlier)
 * commits and is never seen. So every transaction that changes products of a business
 * first takes this transaction-scoped advisory lock, then stamps
 * `greatest(clock_timestamp(), max(product_stock.changed_at) + 1 ms)` — changed_at being
 * the presented updatedAt, moved by edits and stock changes alike. Writers of one business are thus
 * serialised, each stamp is later than every committed one, and the lock is released only
 * after the commit is visible: commit order = updatedAt order, so "largest updatedAt seen"
 * is a safe resume point.
 *
 * A transaction that changes several products gives each its own millisecond (stamp,
 * stamp + 1 ms, … in id order: see stampOf), so updatedAt is unique per business and a
 * device interrupted in the middle of a page can resume from its largest updatedAt
 * without missing the rest of a batch. The test test/catalog/sync.test.ts fails if this
 * lock is replaced by now().
 *
 * Lock order for every writer (catalog, inventory, sales): this lock first, then product
 * row locks in id order — never the other way round, so writers cannot deadlock.
 */
export async function lockCatalogAndStamp(tx: DbOrTx, businessId: string): Promise<Date> {
  // catalog_write_stamp (drizzle/0002, 0014): the lock, then the stamp after the latest
  // product_stock.changed_at, in one round trip.
  const result = await tx.execute<{ stamp: Date | string }>(
    sql`select catalog_write_stamp(${businessId}::uuid) as stamp`,
  );
  const stamp = result.rows[0]?.stamp;
  return stamp instanceof Date ? stamp : new Date(String(stamp));
}

/** The stamp of the `index`-th product (in id order) changed by one transaction. */
export const stampOf = (base: Date, index: number): Date => new Date(base.getTime() + index);

export async function findProduct(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<ProductRow | undefined> {
  const [row] = await db
    .select(productWithStock)
    .from(products)
    .innerJoin(productStock, productStockOfProduct)
    .where(and(eq(products.businessId, businessId), eq(products.id, id)))
    .limit(1);
  return row;
}

/**
 * Inserts a product; the products_stock_row trigger (drizzle/0014) gives it its
 * product_stock row, changed at its `updatedAt`.
 */
export async function insertProduct(tx: DbOrTx, values: NewProductRow): Promise<ProductRow> {
  const [row] = await tx.insert(products).values(values).returning();
  if (!row) throw new Error('insert into products returned no row');
  // A new product has no stock anywhere: levels only ever change through the ledger.
  return { ...row, stockQuantity: 0, stock: [] };
}

/**
 * After an edit of `ids` (products.updated_at set to each one's stamp), moves their
 * product_stock.changed_at to the same stamp — what the API presents as updatedAt and the
 * delta sync pages by — and returns the edited products as toProduct reads them.
 */
async function markEdited(tx: DbOrTx, businessId: string, ids: string[]): Promise<ProductRow[]> {
  if (ids.length === 0) return [];
  return tx
    .update(productStock)
    .set({ changedAt: sql`${products.updatedAt}` })
    .from(products)
    .where(
      and(
        eq(productStock.businessId, businessId),
        inArray(productStock.productId, ids),
        productStockOfProduct,
      ),
    )
    .returning(productWithStock);
}

/**
 * One edit: bumps `version` in the same statement, and when `expectedVersion` is given only
 * updates a row still at that version — so of two concurrent edits based on the same
 * version exactly one wins and the other sees 0 rows (412), never a silent overwrite.
 */
export async function updateProduct(
  tx: DbOrTx,
  businessId: string,
  id: string,
  changes: ProductChanges,
  stamp: Date,
  expectedVersion?: number,
): Promise<ProductRow | undefined> {
  const edited = await tx
    .update(products)
    .set({ ...changes, version: sql`${products.version} + 1`, updatedAt: stamp })
    .where(
      and(
        eq(products.businessId, businessId),
        eq(products.id, id),
        expectedVersion === undefined ? undefined : eq(products.version, expectedVersion),
      ),
    )
    .returning({ id: products.id });
  const [row] = await markEdited(
    tx,
    businessId,
    edited.map((product) => product.id),
  );
  return row;
}

/**
 * Products of a category lose it (the category is being deleted); each is an edit, stamped
 * `stamp + n ms` in id order so stamps stay unique.
 */
export async function detachCategory(
  tx: DbOrTx,
  businessId: string,
  categoryId: string,
  stamp: Date,
): Promise<ProductRow[]> {
  const ranked = tx.$with('ranked').as(
    tx
      .select({
        id: products.id,
        rank: sql<number>`(row_number() over (order by ${products.id}) - 1)::int`.as('rank'),
      })
      .from(products)
      .where(and(eq(products.businessId, businessId), eq(products.categoryId, categoryId))),
  );
  const edited = await tx
    .with(ranked)
    .update(products)
    .set({
      categoryId: null,
      version: sql`${products.version} + 1`,
      updatedAt: sql`${stamp.toISOString()}::timestamptz + ${ranked.rank} * interval '1 millisecond'`,
    })
    .from(ranked)
    .where(and(eq(products.businessId, businessId), eq(products.id, ranked.id)))
    .returning({ id: products.id });
  return markEdited(
    tx,
    businessId,
    edited.map((product) => product.id),
  );
}

export async function findCategory(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<CategoryRow | undefined> {
  const [row] = await db
    .select()
    .from(categories)
    .where(and(eq(categories.businessId, businessId), eq(categories.id, id)))
    .limit(1);
  return row;
}

export async function listCategories(
  db: DbOrTx,
  businessId: string,
  page: { after?: { name: string; id: string }; limit: number },
): Promise<CategoryRow[]> {
  return db
    .select()
    .from(categories)
    .where(
      and(
        eq(categories.businessId, businessId),
        page.after
          ? sql`(${categories.name}, ${categories.id}) > (${page.after.name}, ${page.after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(asc(categories.name), asc(categories.id))
    .limit(page.limit + 1);
}

export async function insertCategory(
  db: DbOrTx,
  values: typeof categories.$inferInsert,
): Promise<CategoryRow> {
  const [row] = await db.insert(categories).values(values).returning();
  if (!row) throw new Error('insert into categories returned no row');
  return row;
}

export async function renameCategory(
  db: DbOrTx,
  businessId: string,
  id: string,
  name: string,
): Promise<CategoryRow | undefined> {
  const [row] = await db
    .update(categories)
    .set({ name, updatedAt: sql`now()` })
    .where(and(eq(categories.businessId, businessId), eq(categories.id, id)))
    .returning();
  return row;
}

export async function deleteCategory(db: DbOrTx, businessId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(categories)
    .where(and(eq(categories.businessId, businessId), eq(categories.id, id)))
    .returning({ id: categories.id });
  return rows.length > 0;
}
