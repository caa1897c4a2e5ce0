import { sql } from 'drizzle-orm';
import { stampOf } from '../catalog/catalog.repo.js';
import type { DbOrTx, Tx } from '../../db/client.js';
import { type PaymentMethod } from '../../db/schema/index.js';

/**
 * The sale write path, set-based for one sale or a batch: one statement locks the products,
 * one claims the clientRequestIds together with the next numbers, one writes lines,
 * payments, stock and movements. No statement per line or per sale (round trips dominate
 * the cost: shared/research/performance.md).
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

/** Locks the business's products among `ids` in id order (one order for all writers: no deadlocks). */
export async function lockProducts(
  tx: Tx,
  businessId: string,
  ids: string[],
): Promise<LockedProduct[]> {
  const result = await tx.execute<{
    id: string;
    name: string;
    sku: string | null;
    price: number;
    tax_rate: number;
    track_stock: boolean;
    stock_quantity: number;
    low_stock_threshold: number | null;
  }>(sql`
    select id, name, sku, price, tax_rate, track_stock, stock_quantity, low_stock_threshold
    from products
    where id = any(${sql.param(ids)}::uuid[]) and business_id = ${businessId}
    order by id
    for update`);
  return result.rows.map((row) => ({
    id: row.id,
    name: row.name,
    sku: row.sku,
    price: row.price,
    taxRate: row.tax_rate,
    trackStock: row.track_stock,
    stockQuantity: row.stock_quantity,
    lowStockThreshold: row.low_stock_threshold,
  }));
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

/**
 * Takes the next `headers.length` numbers and inserts the sales, in one statement; numbers
 * follow the order of `headers`. Returns the numbers, or null when any clientRequestId is
 * already taken: the caller must then roll back, which also gives the numbers back. A
 * concurrent first insert of the same id makes this wait for its commit (unique index).
 */
export async function insertSales(
  tx: Tx,
  businessId: string,
  headers: SaleHeaderRow[],
): Promise<number[] | null> {
  const count = headers.length;
  const column = (pick: (header: SaleHeaderRow) => unknown, type: string) =>
    arr(headers.map(pick), type);
  const result = await tx.execute<{ id: string; number: number }>(sql`
    with counter as (
      insert into sale_counters (business_id, last_number) values (${businessId}, ${count})
      on conflict (business_id) do update set last_number = sale_counters.last_number + ${count}
      returning last_number
    )
    insert into sales (id, business_id, client_request_id, request_hash, number, receipt_number,
      cashier_id, occurred_at, received_at, status, subtotal, discount, tax, total, change,
      customer_phone, note)
    select s.id, ${businessId}, s.client_request_id, s.request_hash,
      counter.last_number - ${count} + s.ordinal, s.receipt_number, s.cashier_id, s.occurred_at,
      s.received_at, 'completed', s.subtotal, s.discount, s.tax, s.total, s.change,
      s.customer_phone, s.note
    from counter, unnest(
      ${column((h) => h.id, 'uuid')}, ${column((h) => h.clientRequestId, 'uuid')},
      ${column((h) => h.requestHash, 'text')}, ${column((h) => h.receiptNumber, 'text')},
      ${column((h) => h.cashierId, 'uuid')},
      ${column((h) => h.occurredAt.toISOString(), 'timestamptz')},
      ${column((h) => h.receivedAt.toISOString(), 'timestamptz')},
      ${column((h) => h.subtotal, 'bigint')}, ${column((h) => h.discount, 'bigint')},
      ${column((h) => h.tax, 'bigint')}, ${column((h) => h.total, 'bigint')},
      ${column((h) => h.change, 'bigint')}, ${column((h) => h.customerPhone, 'text')},
      ${column((h) => h.note, 'text')}
    ) with ordinality as s(id, client_request_id, request_hash, receipt_number, cashier_id,
      occurred_at, received_at, subtotal, discount, tax, total, change, customer_phone, note,
      ordinal)
    on conflict (business_id, client_request_id) do nothing
    returning id, number`);
  if (result.rows.length !== count) return null;
  const numbers = new Map(result.rows.map((row) => [row.id, row.number]));
  return headers.map((header) => numbers.get(header.id) ?? 0);
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

/** Writes the lines, payments, ledger rows and stock levels of any number of sales in one statement. */
export async function insertSaleChildren(tx: DbOrTx, rows: SaleChildren): Promise<void> {
  const { lines, payments } = rows;
  const line = (pick: (row: SaleLineRow) => unknown, type: string) => arr(lines.map(pick), type);
  const payment = (pick: (row: SalePaymentRow) => unknown, type: string) =>
    arr(payments.map(pick), type);
  await tx.execute(sql`
    with inserted_lines as (
      insert into sale_lines (id, sale_id, business_id, product_id, position, name, sku, quantity,
        unit_price, catalog_price, tax_rate, discount, sale_discount_share, tax, total)
      select l.id, l.sale_id, ${rows.businessId}, l.product_id, l.position, l.name, l.sku,
        l.quantity, l.unit_price, l.catalog_price, l.tax_rate, l.discount, l.share, l.tax, l.total
      from unnest(
        ${line((r) => r.id, 'uuid')}, ${line((r) => r.saleId, 'uuid')},
        ${line((r) => r.productId, 'uuid')}, ${line((r) => r.position, 'int')},
        ${line((r) => r.name, 'text')}, ${line((r) => r.sku, 'text')},
        ${line((r) => r.quantity, 'numeric')}, ${line((r) => r.unitPrice, 'bigint')},
        ${line((r) => r.catalogPrice, 'bigint')}, ${line((r) => r.taxRate, 'int')},
        ${line((r) => r.discount, 'bigint')}, ${line((r) => r.saleDiscountShare, 'bigint')},
        ${line((r) => r.tax, 'bigint')}, ${line((r) => r.total, 'bigint')}
      ) as l(id, sale_id, product_id, position, name, sku, quantity, unit_price, catalog_price,
        tax_rate, discount, share, tax, total)
      returning 1
    ),
    inserted_payments as (
      insert into sale_payments (id, sale_id, business_id, position, method, amount, reference)
      select p.id, p.sale_id, ${rows.businessId}, p.position, p.method, p.amount, p.reference
      from unnest(
        ${payment((r) => r.id, 'uuid')}, ${payment((r) => r.saleId, 'uuid')},
        ${payment((r) => r.position, 'int')}, ${payment((r) => r.method, 'text')},
        ${payment((r) => r.amount, 'bigint')}, ${payment((r) => r.reference, 'text')}
      ) as p(id, sale_id, position, method, amount, reference)
      returning 1
    ),
    ${stockCtes(rows)}
    select 1`);
}

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
