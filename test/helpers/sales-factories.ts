import { randomUUID } from 'node:crypto';
import { and, count, eq, sql } from 'drizzle-orm';
import type { AppDeps } from '../../src/deps.js';
import {
  locations,
  outbox,
  products,
  productStock,
  saleLines,
  salePayments,
  sales,
  stockLevels,
  stockMovements,
} from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { bumpCatalogVersions } from '../../src/modules/catalog/catalog-version.js';

export interface ProductOverrides {
  name?: string;
  sku?: string | null;
  price?: number;
  taxRate?: number;
  trackStock?: boolean;
  stockQuantity?: number;
  lowStockThreshold?: number | null;
  archived?: boolean;
}

export type TestProduct = typeof products.$inferSelect & { stockQuantity: number };

/**
 * A product inserted directly (the catalog endpoints belong to another module). Its stock
 * is opened with a 'receive' movement, so its total (product_stock.quantity, the row the
 * database makes with the product) equals the sum of the ledger.
 */
export async function insertProduct(
  deps: AppDeps,
  businessId: string,
  createdBy: string,
  overrides: ProductOverrides = {},
): Promise<TestProduct> {
  const id = newId();
  const stockQuantity = overrides.stockQuantity ?? 100;
  const [product] = await deps.db
    .insert(products)
    .values({
      id,
      businessId,
      name: overrides.name ?? `Product ${id.slice(-6)}`,
      sku: overrides.sku === undefined ? `SKU-${id.slice(-8)}` : overrides.sku,
      price: overrides.price ?? 10_000,
      taxRate: overrides.taxRate ?? 1600,
      trackStock: overrides.trackStock ?? true,
      lowStockThreshold: overrides.lowStockThreshold ?? null,
      archived: overrides.archived ?? false,
    })
    .returning();
  if (stockQuantity !== 0) {
    const locationId = await defaultLocationId(deps, businessId);
    await deps.db.insert(stockMovements).values({
      id: newId(),
      businessId,
      productId: id,
      locationId,
      type: 'receive',
      delta: stockQuantity,
      quantityAfter: stockQuantity,
      createdBy,
    });
    await deps.db
      .insert(stockLevels)
      .values({ businessId, productId: id, locationId, quantity: stockQuantity });
    await deps.db
      .update(productStock)
      .set({ quantity: stockQuantity })
      .where(and(eq(productStock.businessId, businessId), eq(productStock.productId, id)));
  }
  // Written behind the services' back: bump as every catalog writer does, or a page cached
  // before this insert would go on being served (catalog-version.ts).
  await bumpCatalogVersions(deps, [businessId]);
  return { ...product!, stockQuantity };
}

/** The business's default location (`Main`, made by the database with the business). */
export async function defaultLocationId(deps: AppDeps, businessId: string): Promise<string> {
  const [row] = await deps.db
    .select({ id: locations.id })
    .from(locations)
    .where(and(eq(locations.businessId, businessId), eq(locations.isDefault, true)));
  return row!.id;
}

/**
 * A product's level at each location where it was stocked, and the sum of that pair's
 * ledger (they must always agree: the ledger rule per location).
 */
export async function levelsOf(deps: AppDeps, productId: string) {
  const result = await deps.db.execute<{
    locationId: string;
    quantity: number | null;
    ledger: number | null;
  }>(sql`
    select coalesce(l.location_id, m.location_id)::text as "locationId",
      l.quantity::float8 as quantity, m.ledger::float8 as ledger
    from (select location_id, quantity from stock_levels where product_id = ${productId}) l
    full join (select location_id, sum(delta) as ledger from stock_movements
      where product_id = ${productId} group by location_id) m on m.location_id = l.location_id
    order by 1`);
  return result.rows;
}

/** A valid POST /sales body: one line of `product` × quantity, paid exactly in cash. */
export function saleBody(
  lines: { product: TestProduct; quantity?: number }[],
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const total = lines.reduce(
    (sum, line) => sum + Math.round((line.quantity ?? 1) * line.product.price),
    0,
  );
  return {
    clientRequestId: randomUUID(),
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    lines: lines.map((line) => ({ productId: line.product.id, quantity: line.quantity ?? 1 })),
    payments: [{ method: 'cash', amount: total }],
    ...overrides,
  };
}

/** Row counts of everything a sale writes, for one business ("nothing else changed"). */
export async function countSaleRows(deps: AppDeps, businessId: string) {
  const one = async (query: Promise<{ value: number }[]>) => (await query)[0]?.value ?? 0;
  const [saleCount, lineCount, paymentCount, movementCount, outboxCount] = await Promise.all([
    one(deps.db.select({ value: count() }).from(sales).where(eq(sales.businessId, businessId))),
    one(
      deps.db
        .select({ value: count() })
        .from(saleLines)
        .where(eq(saleLines.businessId, businessId)),
    ),
    one(
      deps.db
        .select({ value: count() })
        .from(salePayments)
        .where(eq(salePayments.businessId, businessId)),
    ),
    one(
      deps.db
        .select({ value: count() })
        .from(stockMovements)
        .where(
          and(eq(stockMovements.businessId, businessId), sql`${stockMovements.type} <> 'receive'`),
        ),
    ),
    one(deps.db.select({ value: count() }).from(outbox).where(eq(outbox.businessId, businessId))),
  ]);
  return {
    sales: saleCount,
    lines: lineCount,
    payments: paymentCount,
    movements: movementCount,
    outbox: outboxCount,
  };
}

/**
 * A product's cached stock and the sum of its ledger (they must always agree), and its
 * presented updatedAt (product_stock.changed_at). `ledger` is
 * NaN unless the rule also holds per location (each level = its own movements' sum) and the
 * levels add up to stockQuantity, so every `ledger: x` assertion checks all three.
 */
export async function stockOf(deps: AppDeps, productId: string) {
  const [row] = await deps.db
    .select({
      stockQuantity: productStock.quantity,
      version: products.version,
      updatedAt: productStock.changedAt,
    })
    .from(products)
    .innerJoin(
      productStock,
      and(
        eq(productStock.businessId, products.businessId),
        eq(productStock.productId, products.id),
      ),
    )
    .where(eq(products.id, productId));
  const [ledger] = await deps.db
    .select({ sum: sql<number>`coalesce(sum(${stockMovements.delta}), 0)::float8` })
    .from(stockMovements)
    .where(eq(stockMovements.productId, productId));
  const levels = await levelsOf(deps, productId);
  const milli = (value: number | null) => Math.round((value ?? 0) * 1000);
  const balanced =
    levels.every((level) => milli(level.quantity) === milli(level.ledger)) &&
    levels.reduce((sum, level) => sum + milli(level.quantity), 0) === milli(row!.stockQuantity);
  return {
    stockQuantity: row!.stockQuantity,
    version: row!.version,
    updatedAt: row!.updatedAt,
    ledger: balanced ? ledger!.sum : Number.NaN,
  };
}
