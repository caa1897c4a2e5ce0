import { sql } from 'drizzle-orm';
import { stampOf } from '../catalog/catalog.repo.js';
import type { DbOrTx, Tx } from '../../db/client.js';
import { namedStatement, type SqlValue } from '../../db/named-statement.js';
import { type PaymentMethod } from '../../db/schema/index.js';
import {
  storedSalesQuery,
  toStoredSale,
  type StoredSale,
  type StoredSaleRow,
} from './sales.repo.js';

/**
 * The sale write path, set-based for one sale or a batch: one statement locks the products,
 * one claims the clientRequestIds and the next numbers and writes lines, payments, stock,
 * movements and outbox rows (sales-write.statement.ts). No statement per line or per sale,
 * both named (round trips and parsing dominate the cost: shared/research/performance.md).
 */

export interface LockedProduct {
  id: string;
  name: string;
  sku: string | null;
  price: number;
  taxRate: number;
  trackStock: boolean;
  stockQuantity: number;
  lowStockThreshold: number | null;
}

type ProductRow = {
  id: string;
  name: string;
  sku: string | null;
  price: number;
  tax_rate: number;
  track_stock: boolean;
  stock_quantity: number;
  low_stock_threshold: number | null;
};

const toLockedProduct = (row: ProductRow): LockedProduct => ({
  id: row.id,
  name: row.name,
  sku: row.sku,
  price: row.price,
  taxRate: row.tax_rate,
  trackStock: row.track_stock,
  stockQuantity: row.stock_quantity,
  lowStockThreshold: row.low_stock_threshold,
});

const productColumns = (businessId: SqlValue, ids: SqlValue) => sql`
  select id, name, sku, price, tax_rate, track_stock, stock_quantity, low_stock_threshold
  from products
  where id = any(${ids}::uuid[]) and business_id = ${businessId}`;

const lookupStatement = namedStatement<
  { stored: StoredSaleRow[]; products: ProductRow[] },
  { businessId: string; clientRequestIds: string[]; productIds: string[] }
>(
  'sales_lookup',
  (p) => sql`
    select
      (select coalesce(json_agg(stored), '[]'::json)
        from (${storedSalesQuery(p('businessId'), p('clientRequestIds'))}) stored) as stored,
      -- Products only when some sale is new: a replay needs none.
      (select coalesce(json_agg(product order by product.id), '[]'::json)
        from (${productColumns(p('businessId'), p('productIds'))}) product
        where (select count(*) from sales
          where business_id = ${p('businessId')}
            and client_request_id = any(${p('clientRequestIds')}::uuid[]))
          < cardinality(${p('clientRequestIds')}::uuid[])) as products`,
);

export interface SaleLookup {
  /** The sales already recorded under these clientRequestIds (replays). */
  stored: StoredSale[];
  /** The business's products among the ids, read without a lock; none if all are replays. */
  products: LockedProduct[];
}

/**
 * Everything a sale (or a batch) is checked against before it is drafted, in one round
 * trip: the sales already stored under its clientRequestIds, and its products read without
 * a lock (the write statement locks them and checks they did not change).
 */
export async function lookUpSales(
  db: DbOrTx,
  businessId: string,
  clientRequestIds: string[],
  productIds: string[],
): Promise<SaleLookup> {
  const [row] = await lookupStatement(db, { businessId, clientRequestIds, productIds });
  return {
    stored: (row?.stored ?? []).map(toStoredSale),
    products: (row?.products ?? []).map(toLockedProduct),
  };
}

const lockProductsStatement = namedStatement<ProductRow, { ids: string[]; businessId: string }>(
  'sales_lock_products',
  (p) => sql`${productColumns(p('businessId'), p('ids'))} order by id for update`,
);

/** Locks the business's products among `ids` in id order (one order for all writers: no deadlocks). */
export async function lockProducts(
  tx: Tx,
  businessId: string,
  ids: string[],
): Promise<LockedProduct[]> {
  return (await lockProductsStatement(tx, { ids, businessId })).map(toLockedProduct);
}

export interface SaleHeaderRow {
  id: string;
  businessId: string;
  clientRequestId: string;
  requestHash: string;
  receiptNumber: string | null;
  cashierId: string;
  occurredAt: Date;
  receivedAt: Date;
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  change: number;
  customerPhone: string | null;
  note: string | null;
}

export interface SaleLineRow {
  id: string;
  saleId: string;
  productId: string;
  position: number;
  name: string;
  sku: string | null;
  quantity: number;
  unitPrice: number;
  catalogPrice: number;
  taxRate: number;
  discount: number;
  saleDiscountShare: number;
  tax: number;
  total: number;
}

export interface SalePaymentRow {
  id: string;
  saleId: string;
  position: number;
  method: PaymentMethod;
  amount: number;
  reference: string | null;
}

/** One ledger row; `quantityAfter` is the product's level right after it. */
export interface MovementRow {
  movementId: string;
  saleId: string;
  productId: string;
  /** Signed. */
  delta: number;
  quantityAfter: number;
}

export interface SaleRowsToInsert {
  header: SaleHeaderRow;
  lines: SaleLineRow[];
  payments: SalePaymentRow[];
  movements: MovementRow[];
}

/** A sale.created message written with its sale; the sale's number is patched in. */
export interface SaleOutboxRow {
  messageId: string;
  payload: Record<string, unknown>;
  saleId: string;
}

export interface SaleChildren {
  businessId: string;
  createdBy: string;
  movementType: 'sale' | 'void';
  lines: SaleLineRow[];
  payments: SalePaymentRow[];
  /** In order: a product's last movement carries its new level. */
  movements: MovementRow[];
  /** From beginCatalogWrite(): the base of the products' new updatedAt (delta sync order). */
  stamp: Date;
}

const arr = (values: unknown[], type: string) => sql`${sql.param(values)}::${sql.raw(type)}[]`;

/** Records ledger rows and sets the products' levels (bumping updated_at, never version). */
export async function applyStockMovements(
  tx: DbOrTx,
  rows: Omit<SaleChildren, 'lines' | 'payments'>,
): Promise<void> {
  if (rows.movements.length === 0) return;
  await tx.execute(sql`with ${stockCtes(rows)} select 1`);
}

function stockCtes(rows: Omit<SaleChildren, 'lines' | 'payments'>) {
  const { movements } = rows;
  // One level per product (an UPDATE … FROM applies only one row per target): the last.
  const levels = new Map(movements.map((row) => [row.productId, row.quantityAfter]));
  // Each changed product gets its own millisecond after the catalog stamp, in id order,
  // exactly as catalog writes do, so updatedAt stays unique and commit-ordered per business.
  const productIds = [...levels.keys()].sort();
  const stamps = productIds.map((_, index) => stampOf(rows.stamp, index).toISOString());
  const movement = (pick: (row: MovementRow) => unknown, type: string) =>
    arr(movements.map(pick), type);
  return sql`
    stock_levels as (
      update products set stock_quantity = s.quantity_after, updated_at = s.updated_at
      from unnest(
        ${arr(productIds, 'uuid')},
        ${arr(
          productIds.map((productId) => levels.get(productId)),
          'numeric',
        )},
        ${arr(stamps, 'timestamptz')}
      ) as s(product_id, quantity_after, updated_at)
      where products.id = s.product_id and products.business_id = ${rows.businessId}
      returning 1
    ),
    movements as (
      insert into stock_movements (id, business_id, product_id, type, delta, quantity_after,
        sale_id, created_by)
      select m.id, ${rows.businessId}, m.product_id, ${rows.movementType}, m.delta,
        m.quantity_after, m.sale_id, ${rows.createdBy}
      from unnest(
        ${movement((r) => r.movementId, 'uuid')}, ${movement((r) => r.saleId, 'uuid')},
        ${movement((r) => r.productId, 'uuid')}, ${movement((r) => r.delta, 'numeric')},
        ${movement((r) => r.quantityAfter, 'numeric')}
      ) as m(id, sale_id, product_id, delta, quantity_after)
      returning 1
    )`;
}
