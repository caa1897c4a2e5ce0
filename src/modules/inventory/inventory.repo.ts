import { productStockOfProduct, productWithStock } from '../catalog/catalog.repo.js';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { products, productStock, stockLevels, stockMovements } from '../../db/schema/index.js';

export type MovementRow = typeof stockMovements.$inferSelect;
export type StockProductRow = Pick<
  typeof products.$inferSelect,
  'id' | 'name' | 'sku' | 'lowStockThreshold' | 'trackStock' | 'archived'
> & { stockQuantity: number };

/**
 * Row-locks the products and their product_stock rows (the totals) in id order, so two
 * transactions touching overlapping sets always queue in the same order and cannot
 * deadlock; the caller holds the catalog lock already.
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
      stockQuantity: productStock.quantity,
      lowStockThreshold: products.lowStockThreshold,
      trackStock: products.trackStock,
      archived: products.archived,
    })
    .from(products)
    .innerJoin(productStock, productStockOfProduct)
    .where(and(eq(products.businessId, businessId), inArray(products.id, ids)))
    .orderBy(asc(products.id))
    .for('update');
}

/** The products' levels at every location they were ever stocked at. */
export async function findLevels(tx: DbOrTx, businessId: string, productIds: string[]) {
  if (productIds.length === 0) return [];
  return tx
    .select({
      productId: stockLevels.productId,
      locationId: stockLevels.locationId,
      quantity: stockLevels.quantity,
    })
    .from(stockLevels)
    .where(and(eq(stockLevels.businessId, businessId), inArray(stockLevels.productId, productIds)))
    .orderBy(asc(stockLevels.productId), asc(stockLevels.locationId));
}

/** Sets levels (the caller computed them under the products' row locks). */
export async function upsertLevels(tx: DbOrTx, rows: (typeof stockLevels.$inferInsert)[]) {
  if (rows.length === 0) return;
  await tx
    .insert(stockLevels)
    .values(rows)
    .onConflictDoUpdate({
      target: [stockLevels.businessId, stockLevels.productId, stockLevels.locationId],
      set: { quantity: sql`excluded.quantity`, updatedAt: sql`excluded.updated_at` },
    });
}

export async function insertMovements(
  tx: DbOrTx,
  rows: (typeof stockMovements.$inferInsert)[],
): Promise<MovementRow[]> {
  if (rows.length === 0) return [];
  return tx.insert(stockMovements).values(rows).returning();
}

/**
 * Stores the products' new cached totals in their narrow product_stock rows and moves each
 * changed_at (the presented updatedAt: devices sync levels) to its stamp, in one statement —
 * not the product rows, nor their versions.
 */
export async function setStockQuantities(
  tx: DbOrTx,
  businessId: string,
  rows: { productId: string; quantity: number; changedAt: Date }[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`
    update ${productStock} set quantity = t.quantity, changed_at = t."changedAt"
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as t("productId" uuid, quantity numeric, "changedAt" timestamptz)
    where ${productStock.businessId} = ${businessId} and ${productStock.productId} = t."productId"`);
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
  filter: {
    productId?: string;
    locationIds?: string[];
    before?: { createdAt: Date; id: string };
    limit: number;
  },
): Promise<MovementRow[]> {
  return db
    .select()
    .from(stockMovements)
    .where(
      and(
        eq(stockMovements.businessId, businessId),
        filter.productId ? eq(stockMovements.productId, filter.productId) : undefined,
        filter.locationIds ? inArray(stockMovements.locationId, filter.locationIds) : undefined,
        filter.before
          ? sql`(${stockMovements.createdAt}, ${stockMovements.id}) < (${filter.before.createdAt.toISOString()}::timestamptz, ${filter.before.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(stockMovements.createdAt), desc(stockMovements.id))
    .limit(filter.limit + 1);
}

/**
 * (product, location) pairs where a tracked, non-archived product's level is at or under
 * its threshold, by (product id, location id). A location where the product was never
 * stocked has no level row and is not listed.
 */
export async function listLowStock(
  db: DbOrTx,
  businessId: string,
  page: { after?: [string, string]; locationIds?: string[]; limit: number },
) {
  return db
    .select({
      product: productWithStock,
      locationId: stockLevels.locationId,
      quantity: stockLevels.quantity,
    })
    .from(stockLevels)
    .innerJoin(
      products,
      and(eq(products.id, stockLevels.productId), eq(products.businessId, stockLevels.businessId)),
    )
    .innerJoin(productStock, productStockOfProduct)
    .where(
      and(
        eq(stockLevels.businessId, businessId),
        sql`${products.trackStock} and not ${products.archived} and ${products.lowStockThreshold} is not null and ${stockLevels.quantity} <= ${products.lowStockThreshold}`,
        page.locationIds ? inArray(stockLevels.locationId, page.locationIds) : undefined,
        page.after
          ? sql`(${stockLevels.productId}, ${stockLevels.locationId}) > (${page.after[0]}::uuid, ${page.after[1]}::uuid)`
          : undefined,
      ),
    )
    .orderBy(asc(stockLevels.productId), asc(stockLevels.locationId))
    .limit(page.limit + 1);
}
