import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { products, stockMovements } from '../../db/schema/index.js';

export type MovementRow = typeof stockMovements.$inferSelect;
export type StockProductRow = Pick<
  typeof products.$inferSelect,
  'id' | 'name' | 'sku' | 'stockQuantity' | 'lowStockThreshold' | 'trackStock' | 'archived'
>;

/**
 * Row-locks the products in id order, so two transactions touching overlapping sets always
 * queue in the same order and cannot deadlock; the caller holds the catalog lock already.
 */
export async function lockProducts(
  tx: DbOrTx,
  businessId: string,
  ids: string[],
): Promise<StockProductRow[]> {
  if (ids.length === 0) return [];
  return tx
    .select({
      id: products.id,
      name: products.name,
      sku: products.sku,
      stockQuantity: products.stockQuantity,
      lowStockThreshold: products.lowStockThreshold,
      trackStock: products.trackStock,
      archived: products.archived,
    })
    .from(products)
    .where(and(eq(products.businessId, businessId), inArray(products.id, ids)))
    .orderBy(asc(products.id))
    .for('update');
}

export async function insertMovements(
  tx: DbOrTx,
  rows: (typeof stockMovements.$inferInsert)[],
): Promise<MovementRow[]> {
  if (rows.length === 0) return [];
  return tx.insert(stockMovements).values(rows).returning();
}

/** Stores the new cached level; bumps updatedAt (devices sync levels) but not version. */
export async function setStockQuantity(
  tx: DbOrTx,
  businessId: string,
  id: string,
  stockQuantity: number,
  stamp: Date,
): Promise<void> {
  await tx
    .update(products)
    .set({ stockQuantity, updatedAt: stamp })
    .where(and(eq(products.businessId, businessId), eq(products.id, id)));
}

export async function productExists(db: DbOrTx, businessId: string, id: string) {
  const [row] = await db
    .select({ id: products.id })
    .from(products)
    .where(and(eq(products.businessId, businessId), eq(products.id, id)))
    .limit(1);
  return row !== undefined;
}

/** Newest first: (createdAt, id) descending, keyset before the cursor. */
export async function listMovements(
  db: DbOrTx,
  businessId: string,
  filter: { productId?: string; before?: { createdAt: Date; id: string }; limit: number },
): Promise<MovementRow[]> {
  return db
    .select()
    .from(stockMovements)
    .where(
      and(
        eq(stockMovements.businessId, businessId),
        filter.productId ? eq(stockMovements.productId, filter.productId) : undefined,
        filter.before
          ? sql`(${stockMovements.createdAt}, ${stockMovements.id}) < (${filter.before.createdAt.toISOString()}::timestamptz, ${filter.before.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(stockMovements.createdAt), desc(stockMovements.id))
    .limit(filter.limit + 1);
}

/** Tracked, non-archived products at or under their threshold (products_low_stock_idx). */
export async function listLowStock(
  db: DbOrTx,
  businessId: string,
  page: { afterId?: string; limit: number },
) {
  return db
    .select()
    .from(products)
    .where(
      and(
        eq(products.businessId, businessId),
        sql`${products.trackStock} and not ${products.archived} and ${products.lowStockThreshold} is not null and ${products.stockQuantity} <= ${products.lowStockThreshold}`,
        page.afterId ? sql`${products.id} > ${page.afterId}::uuid` : undefined,
      ),
    )
    .orderBy(asc(products.id))
    .limit(page.limit + 1);
}
