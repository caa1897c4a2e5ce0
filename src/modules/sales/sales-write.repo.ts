import { sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import { type PaymentMethod } from '../../db/schema/index.js';

/**
 * The sale write path, set-based: one statement locks the products, one claims the
 * clientRequestId together with the next number, one writes lines, payments, stock and
 * movements. No statement per line (docs/performance: round trips dominate the cost).
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
 * Takes the business's next number and inserts the sale, in one statement. Returns null
 * when the clientRequestId is already taken: the caller must roll back, which also gives
 * the number back. A concurrent first insert of the same id makes this wait for its commit
 * (unique index), so the loser sees the winner's row.
 */
export async function insertSaleWithNextNumber(
  tx: Tx,
  sale: SaleHeaderRow,
): Promise<number | null> {
  const result = await tx.execute<{ number: number }>(sql`
    with counter as (
      insert into sale_counters (business_id, last_number) values (${sale.businessId}, 1)
      on conflict (business_id) do update set last_number = sale_counters.last_number + 1
      returning last_number
    )
    insert into sales (id, business_id, client_request_id, request_hash, number, receipt_number,
      cashier_id, occurred_at, received_at, status, subtotal, discount, tax, total, change,
      customer_phone, note)
    select ${sale.id}, ${sale.businessId}, ${sale.clientRequestId}, ${sale.requestHash},
      counter.last_number, ${sale.receiptNumber}, ${sale.cashierId},
      ${sale.occurredAt.toISOString()}::timestamptz, ${sale.receivedAt.toISOString()}::timestamptz,
      'completed', ${sale.subtotal}, ${sale.discount}, ${sale.tax}, ${sale.total}, ${sale.change},
      ${sale.customerPhone}, ${sale.note}
    from counter
    on conflict (business_id, client_request_id) do nothing
    returning number`);
  const row = result.rows[0];
  return row ? row.number : null;
}

export interface SaleLineRow {
  id: string;
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
  position: number;
  method: PaymentMethod;
  amount: number;
  reference: string | null;
}

/** A change to one product's stock, with the ledger row that records it. */
export interface StockChange {
  movementId: string;
  productId: string;
  /** Signed. */
  delta: number;
  quantityAfter: number;
}

export interface SaleDetails {
  businessId: string;
  saleId: string;
  lines: SaleLineRow[];
  payments: SalePaymentRow[];
  stock: StockChange[];
  movementType: 'sale' | 'void';
  createdBy: string;
}

const arr = (values: unknown[], type: string) => sql`${sql.param(values)}::${sql.raw(type)}[]`;

/** Writes a sale's lines, payments, stock levels and ledger rows in one statement. */
export async function insertSaleDetails(tx: DbOrTx, details: SaleDetails): Promise<void> {
  const { lines, payments } = details;
  await tx.execute(sql`
    with inserted_lines as (
      insert into sale_lines (id, sale_id, business_id, product_id, position, name, sku, quantity,
        unit_price, catalog_price, tax_rate, discount, sale_discount_share, tax, total)
      select l.id, ${details.saleId}, ${details.businessId}, l.product_id, l.position, l.name,
        l.sku, l.quantity, l.unit_price, l.catalog_price, l.tax_rate, l.discount, l.share,
        l.tax, l.total
      from unnest(${arr(
        lines.map((line) => line.id),
        'uuid',
      )}, ${arr(
        lines.map((line) => line.productId),
        'uuid',
      )}, ${arr(
        lines.map((line) => line.position),
        'int',
      )}, ${arr(
        lines.map((line) => line.name),
        'text',
      )}, ${arr(
        lines.map((line) => line.sku),
        'text',
      )}, ${arr(
        lines.map((line) => line.quantity),
        'numeric',
      )}, ${arr(
        lines.map((line) => line.unitPrice),
        'bigint',
      )}, ${arr(
        lines.map((line) => line.catalogPrice),
        'bigint',
      )}, ${arr(
        lines.map((line) => line.taxRate),
        'int',
      )}, ${arr(
        lines.map((line) => line.discount),
        'bigint',
      )}, ${arr(
        lines.map((line) => line.saleDiscountShare),
        'bigint',
      )}, ${arr(
        lines.map((line) => line.tax),
        'bigint',
      )}, ${arr(
        lines.map((line) => line.total),
        'bigint',
      )})
        as l(id, product_id, position, name, sku, quantity, unit_price, catalog_price, tax_rate,
          discount, share, tax, total)
      returning 1
    ),
    inserted_payments as (
      insert into sale_payments (id, sale_id, business_id, position, method, amount, reference)
      select p.id, ${details.saleId}, ${details.businessId}, p.position, p.method, p.amount,
        p.reference
      from unnest(${arr(
        payments.map((payment) => payment.id),
        'uuid',
      )}, ${arr(
        payments.map((payment) => payment.position),
        'int',
      )}, ${arr(
        payments.map((payment) => payment.method),
        'text',
      )}, ${arr(
        payments.map((payment) => payment.amount),
        'bigint',
      )}, ${arr(
        payments.map((payment) => payment.reference),
        'text',
      )}) as p(id, position, method, amount, reference)
      returning 1
    ),
    ${stockChangeCtes(details)}
    select 1`);
}

/** Applies signed stock deltas to locked products (bumping updated_at, never version) and records them. */
export async function applyStockChanges(
  tx: DbOrTx,
  details: Omit<SaleDetails, 'lines' | 'payments'>,
): Promise<void> {
  if (details.stock.length === 0) return;
  await tx.execute(sql`with ${stockChangeCtes(details)} select 1`);
}

function stockChangeCtes(details: Omit<SaleDetails, 'lines' | 'payments'>) {
  const { stock } = details;
  return sql`
    stock_levels as (
      update products set stock_quantity = s.quantity_after, updated_at = now()
      from unnest(${arr(
        stock.map((change) => change.productId),
        'uuid',
      )}, ${arr(
        stock.map((change) => change.quantityAfter),
        'numeric',
      )}) as s(product_id, quantity_after)
      where products.id = s.product_id and products.business_id = ${details.businessId}
      returning 1
    ),
    movements as (
      insert into stock_movements (id, business_id, product_id, type, delta, quantity_after,
        sale_id, created_by)
      select m.id, ${details.businessId}, m.product_id, ${details.movementType}, m.delta,
        m.quantity_after, ${details.saleId}, ${details.createdBy}
      from unnest(${arr(
        stock.map((change) => change.movementId),
        'uuid',
      )}, ${arr(
        stock.map((change) => change.productId),
        'uuid',
      )}, ${arr(
        stock.map((change) => change.delta),
        'numeric',
      )}, ${arr(
        stock.map((change) => change.quantityAfter),
        'numeric',
      )}) as m(id, product_id, delta, quantity_after)
      returning 1
    )`;
}
