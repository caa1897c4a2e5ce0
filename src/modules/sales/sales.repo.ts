import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import { namedStatement, type SqlValue } from '../../db/named-statement.js';
import {
  businesses,
  saleLines,
  salePayments,
  sales,
  stockMovements,
  type SaleStatus,
} from '../../db/schema/index.js';
import type { Sale } from './sales.schemas.js';

export type SaleRow = typeof sales.$inferSelect;

export interface StoredSaleRow {
  id: string;
  client_request_id: string;
  request_hash: string;
  number: number;
  receipt_number: string | null;
  cashier_id: string;
  occurred_at_ms: number;
  received_at_ms: number;
  status: SaleStatus;
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  change: number;
  customer_phone: string | null;
  note: string | null;
  voided_at_ms: number | null;
  void_reason: string | null;
  lines: Sale['lines'];
  payments: Sale['payments'];
}

/**
 * The stored sales among some clientRequestIds, each as one row holding the whole Sale
 * resource (lines and payments as JSON, instants as epoch milliseconds): a replay costs one
 * indexed read and never writes. Shared by findStoredSales and the sale lookup
 * (sales-write.repo.ts), which also reads the products in the same round trip.
 */
export const storedSalesQuery = (businessId: SqlValue, clientRequestIds: SqlValue) => sql`
  select s.id, s.client_request_id, s.request_hash, s.number, s.receipt_number, s.cashier_id,
    (extract(epoch from s.occurred_at) * 1000)::bigint as occurred_at_ms,
    (extract(epoch from s.received_at) * 1000)::bigint as received_at_ms,
    s.status, s.subtotal, s.discount, s.tax, s.total, s.change, s.customer_phone, s.note,
    (extract(epoch from s.voided_at) * 1000)::bigint as voided_at_ms, s.void_reason,
    (select coalesce(json_agg(json_build_object('id', l.id, 'productId', l.product_id,
        'name', l.name, 'sku', l.sku, 'quantity', l.quantity, 'unitPrice', l.unit_price,
        'catalogPrice', l.catalog_price, 'discount', l.discount, 'tax', l.tax,
        'total', l.total) order by l.position), '[]'::json)
      from sale_lines l where l.sale_id = s.id) as lines,
    (select coalesce(json_agg(json_build_object('method', py.method, 'amount', py.amount,
        'reference', py.reference) order by py.position), '[]'::json)
      from sale_payments py where py.sale_id = s.id) as payments
  from sales s
  where s.business_id = ${businessId} and s.client_request_id = any(${clientRequestIds}::uuid[])`;

const findStoredSalesStatement = namedStatement<
  StoredSaleRow,
  { businessId: string; clientRequestIds: string[] }
>('sales_find_stored', (p) => storedSalesQuery(p('businessId'), p('clientRequestIds')));

export interface StoredSale {
  requestHash: string;
  sale: Sale;
}

/** A stored sale as the API returns it, with its request fingerprint. */
export const toStoredSale = (row: StoredSaleRow): StoredSale => ({
  requestHash: row.request_hash,
  sale: {
    id: row.id,
    number: row.number,
    receiptNumber: row.receipt_number,
    clientRequestId: row.client_request_id,
    status: row.status,
    occurredAt: new Date(row.occurred_at_ms).toISOString(),
    receivedAt: new Date(row.received_at_ms).toISOString(),
    cashierId: row.cashier_id,
    subtotal: row.subtotal,
    discount: row.discount,
    tax: row.tax,
    total: row.total,
    change: row.change,
    lines: row.lines,
    payments: row.payments,
    customerPhone: row.customer_phone,
    note: row.note,
    voidedAt: row.voided_at_ms === null ? null : new Date(row.voided_at_ms).toISOString(),
    voidReason: row.void_reason,
  },
});

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
  const rows = await findStoredSalesStatement(db, { businessId, clientRequestIds });
  return rows.map(toStoredSale);
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

type LineLike = Pick<
  typeof saleLines.$inferSelect,
  | 'id'
  | 'productId'
  | 'name'
  | 'sku'
  | 'quantity'
  | 'unitPrice'
  | 'catalogPrice'
  | 'discount'
  | 'tax'
  | 'total'
>;
type PaymentLike = Pick<typeof salePayments.$inferSelect, 'method' | 'amount' | 'reference'>;
type HeaderLike = Omit<SaleRow, 'businessId' | 'requestHash' | 'voidedBy'>;

/** The Sale resource (API.md) from its stored parts. */
export function toSale(row: HeaderLike, lines: LineLike[], payments: PaymentLike[]): Sale {
  return {
    id: row.id,
    number: row.number,
    receiptNumber: row.receiptNumber,
    clientRequestId: row.clientRequestId,
    status: row.status,
    occurredAt: row.occurredAt.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    cashierId: row.cashierId,
    subtotal: row.subtotal,
    discount: row.discount,
    tax: row.tax,
    total: row.total,
    change: row.change,
    lines: lines.map((line) => ({
      id: line.id,
      productId: line.productId,
      name: line.name,
      sku: line.sku,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      catalogPrice: line.catalogPrice,
      discount: line.discount,
      tax: line.tax,
      total: line.total,
    })),
    payments: payments.map((payment) => ({
      method: payment.method,
      amount: payment.amount,
      reference: payment.reference,
    })),
    customerPhone: row.customerPhone,
    note: row.note,
    voidedAt: row.voidedAt ? row.voidedAt.toISOString() : null,
    voidReason: row.voidReason,
  };
}
