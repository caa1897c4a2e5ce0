import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import { namedStatement, type SqlValue } from '../../db/named-statement.js';
import {
  businesses,
  saleLines,
  salePayments,
  sales,
  stockMovements,
  type SaleRow,
  type SaleStatus,
} from '../../db/schema/index.js';
import { toSale } from './sale.presenter.js';
import type { Sale } from './sales.schemas.js';

export type { SaleRow };

/**
 * The stored sales among some clientRequestIds, each as one row holding the whole Sale
 * resource as JSON (instants formatted as `Date.toISOString()` does): a replay costs one
 * indexed read, never writes and needs no mapping. Shared by findStoredSales and the sale
 * lookup (sale-write.repo.ts), which also reads the products in the same round trip.
 */
export const storedSalesQuery = (businessId: SqlValue, clientRequestIds: SqlValue) => sql`
  select s.request_hash as "requestHash", json_build_object(
    'id', s.id, 'number', s.number, 'receiptNumber', s.receipt_number,
    'clientRequestId', s.client_request_id, 'status', s.status,
    'occurredAt', ${isoInstant(sql`s.occurred_at`)}, 'receivedAt', ${isoInstant(sql`s.received_at`)},
    'cashierId', s.cashier_id, 'locationId', s.location_id,
    'shiftId', s.shift_id, 'subtotal', s.subtotal, 'discount', s.discount, 'tax', s.tax,
    'total', s.total, 'change', s.change,
    'lines', (select coalesce(json_agg(json_build_object('id', l.id, 'productId', l.product_id,
        'name', l.name, 'sku', l.sku, 'quantity', l.quantity, 'unitPrice', l.unit_price,
        'catalogPrice', l.catalog_price, 'discount', l.discount, 'tax', l.tax,
        'total', l.total) order by l.position), '[]'::json)
      from sale_lines l where l.sale_id = s.id),
    'payments', (select coalesce(json_agg(json_build_object('method', py.method,
        'amount', py.amount, 'reference', py.reference) order by py.position), '[]'::json)
      from sale_payments py where py.sale_id = s.id),
    'customerPhone', s.customer_phone, 'customerId', s.customer_id, 'note', s.note,
    'voidedAt', ${isoInstant(sql`s.voided_at`)}, 'voidReason', s.void_reason) as sale
  from sales s
  where s.business_id = ${businessId} and s.client_request_id = any(${clientRequestIds}::uuid[])`;

/** An instant as `Date.prototype.toISOString()` writes it (UTC, milliseconds, `Z`). */
function isoInstant(column: SQL) {
  return sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** A stored sale as the API returns it, with its request fingerprint (the replay check). */
export interface StoredSale {
  requestHash: string;
  sale: Sale;
}

const findStoredSalesStatement = namedStatement<
  StoredSale,
  { businessId: string; clientRequestIds: string[] }
>('sales_find_stored', (p) => storedSalesQuery(p('businessId'), p('clientRequestIds')));

/**
 * The stored sales among these clientRequestIds, as the API returns them, with each one's
 * request fingerprint (the replay check: one named statement for one id or a batch).
 */
export async function findStoredSales(
  db: DbOrTx,
  businessId: string,
  clientRequestIds: string[],
): Promise<StoredSale[]> {
  if (clientRequestIds.length === 0) return [];
  return findStoredSalesStatement(db, { businessId, clientRequestIds });
}

/** A sale of the business; `cashierId` restricts it to that cashier's own sales. */
export async function findSaleRow(
  db: DbOrTx,
  businessId: string,
  id: string,
  cashierId?: string,
): Promise<SaleRow | undefined> {
  const [row] = await db
    .select()
    .from(sales)
    .where(
      and(
        eq(sales.businessId, businessId),
        eq(sales.id, id),
        cashierId === undefined ? undefined : eq(sales.cashierId, cashierId),
      ),
    )
    .limit(1);
  return row;
}

/** Locks a sale row for a state change (void). */
export async function lockSaleRow(
  tx: Tx,
  businessId: string,
  id: string,
): Promise<SaleRow | undefined> {
  const [row] = await tx
    .select()
    .from(sales)
    .where(and(eq(sales.businessId, businessId), eq(sales.id, id)))
    .for('update')
    .limit(1);
  return row;
}

export async function markSaleVoided(
  tx: Tx,
  businessId: string,
  id: string,
  change: { voidedAt: Date; voidReason: string; voidedBy: string },
): Promise<SaleRow> {
  const [row] = await tx
    .update(sales)
    .set({ status: 'voided', ...change })
    .where(and(eq(sales.businessId, businessId), eq(sales.id, id)))
    .returning();
  if (!row) throw new Error(`sale ${id} vanished while locked`);
  return row;
}

/** The stock a sale took: its 'sale' movements, per product. */
export async function findSaleStockMovements(
  db: DbOrTx,
  businessId: string,
  saleId: string,
): Promise<{ productId: string; locationId: string | null; delta: number }[]> {
  return db
    .select({
      productId: stockMovements.productId,
      locationId: stockMovements.locationId,
      delta: stockMovements.delta,
    })
    .from(stockMovements)
    .where(
      and(
        eq(stockMovements.businessId, businessId),
        eq(stockMovements.saleId, saleId),
        eq(stockMovements.type, 'sale'),
      ),
    )
    .orderBy(asc(stockMovements.productId));
}

export interface SaleListFilter {
  businessId: string;
  timezone: string;
  from?: string;
  to?: string;
  status?: SaleStatus;
  cashierId?: string;
  /** Only sales at these locations (the filter, or the reader's assignment). */
  locationIds?: string[];
  /** Forced to the caller for cashiers who may read only their own sales. */
  ownerCashierId?: string;
  after?: { occurredAt: Date; id: string };
  limit: number;
}

/** A page of sales, newest first by (occurredAt, id); `limit + 1` rows tell if more follow. */
export async function listSaleRows(db: DbOrTx, filter: SaleListFilter): Promise<SaleRow[]> {
  const conditions: (SQL | undefined)[] = [
    eq(sales.businessId, filter.businessId),
    filter.status ? eq(sales.status, filter.status) : undefined,
    filter.cashierId ? eq(sales.cashierId, filter.cashierId) : undefined,
    filter.ownerCashierId ? eq(sales.cashierId, filter.ownerCashierId) : undefined,
    filter.locationIds ? inArray(sales.locationId, filter.locationIds) : undefined,
    // Days are the business's local calendar days, turned into instants by PostgreSQL.
    filter.from
      ? sql`${sales.occurredAt} >= (${filter.from}::date)::timestamp at time zone ${filter.timezone}`
      : undefined,
    filter.to
      ? sql`${sales.occurredAt} < (${filter.to}::date + 1)::timestamp at time zone ${filter.timezone}`
      : undefined,
    filter.after
      ? sql`(${sales.occurredAt}, ${sales.id}) < (${filter.after.occurredAt.toISOString()}::timestamptz, ${filter.after.id}::uuid)`
      : undefined,
  ];
  return db
    .select()
    .from(sales)
    .where(and(...conditions))
    .orderBy(desc(sales.occurredAt), desc(sales.id))
    .limit(filter.limit + 1);
}

/** Sale rows with their lines and payments, as the API returns them (two queries for any number). */
export async function loadSales(db: DbOrTx, rows: SaleRow[]): Promise<Sale[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [lines, payments] = await Promise.all([
    db
      .select()
      .from(saleLines)
      .where(inArray(saleLines.saleId, ids))
      .orderBy(asc(saleLines.saleId), asc(saleLines.position)),
    db
      .select()
      .from(salePayments)
      .where(inArray(salePayments.saleId, ids))
      .orderBy(asc(salePayments.saleId), asc(salePayments.position)),
  ]);
  return rows.map((row) =>
    toSale(
      row,
      lines.filter((line) => line.saleId === row.id),
      payments.filter((payment) => payment.saleId === row.id),
    ),
  );
}

export async function findBusinessName(db: DbOrTx, businessId: string): Promise<string> {
  const [row] = await db
    .select({ name: businesses.name })
    .from(businesses)
    .where(eq(businesses.id, businessId));
  return row?.name ?? '';
}
