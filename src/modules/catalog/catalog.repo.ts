import { and, asc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { categories, products } from '../../db/schema/index.js';

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

/** Every product column and `stock`: what toProduct presents. */
export const productWithStock = { ...getTableColumns(products), stock: stockOfProduct };

export type ProductRow = typeof products.$inferSelect & { stock: StockEntry[] };
export type CategoryRow = typeof categories.$inferSelect;
export type NewProductRow = typeof products.$inferInsert;
export type ProductChanges = Partial<
  Omit<NewProductRow, 'id' | 'businessId' | 'version' | 'createdAt' | 'stockQuantity'>
>;

/**
 * Serialises catalog writes of one business and returns the first `updatedAt` stamp.
 *
 * Why: `GET /products?updatedSince=T` must never miss a change. With `now()` (transaction
 * start) two transactions can commit out of timestamp order: B stamps 10:00:00.005 and
 * commits, a device syncs and remembers .005, then A (stamped .003, started earlier)
 * commits and is never seen. So every transaction that changes products of a business
 * first takes this transaction-scoped advisory lock, then stamps
 * `greatest(clock_timestamp(), max(updated_at) + 1 ms)`. Writers of one business are thus
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
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`catalog:${businessId}`}, 0))`,
  );
  const result = await tx.execute<{ stamp: Date | string }>(sql`
    select greatest(
      date_trunc('milliseconds', clock_timestamp()),
      (select max(${products.updatedAt}) + interval '1 millisecond'
         from ${products} where ${products.businessId} = ${businessId})
    ) as stamp`);
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
    .where(and(eq(products.businessId, businessId), eq(products.id, id)))
    .limit(1);
  return row;
}

export async function insertProduct(tx: DbOrTx, values: NewProductRow): Promise<ProductRow> {
  const [row] = await tx.insert(products).values(values).returning();
  if (!row) throw new Error('insert into products returned no row');
  // A new product has no stock anywhere: levels only ever change through the ledger.
  return { ...row, stock: [] };
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
  const [row] = await tx
    .update(products)
    .set({ ...changes, version: sql`${products.version} + 1`, updatedAt: stamp })
    .where(
      and(
        eq(products.businessId, businessId),
        eq(products.id, id),
        expectedVersion === undefined ? undefined : eq(products.version, expectedVersion),
      ),
    )
    .returning(productWithStock);
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
  return tx
    .with(ranked)
    .update(products)
    .set({
      categoryId: null,
      version: sql`${products.version} + 1`,
      updatedAt: sql`${stamp.toISOString()}::timestamptz + ${ranked.rank} * interval '1 millisecond'`,
    })
    .from(ranked)
    .where(and(eq(products.businessId, businessId), eq(products.id, ranked.id)))
    .returning(productWithStock);
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
