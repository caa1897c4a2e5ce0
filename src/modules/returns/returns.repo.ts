import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import {
  products,
  returnCounters,
  returnLines,
  returnRefunds,
  returns,
  saleLines,
  sales,
  type ReturnLineRow,
  type ReturnRefundRow,
  type ReturnRow,
} from '../../db/schema/index.js';
import { etimsBlocksOfReturns } from '../etims/etims-block.js';
import { toReturn } from './return.presenter.js';
import type { Return } from './returns.schemas.js';

export type { ReturnRow };

/** A return of the business by id. */
export async function findReturnRow(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<ReturnRow | undefined> {
  const [row] = await db
    .select()
    .from(returns)
    .where(and(eq(returns.businessId, businessId), eq(returns.id, id)))
    .limit(1);
  return row;
}

/** The return recorded under a clientRequestId, with its request fingerprint (the replay check). */
export async function findStoredReturn(
  db: DbOrTx,
  businessId: string,
  clientRequestId: string,
): Promise<{ requestHash: string; resource: Return } | undefined> {
  const [row] = await db
    .select()
    .from(returns)
    .where(and(eq(returns.businessId, businessId), eq(returns.clientRequestId, clientRequestId)))
    .limit(1);
  if (!row) return undefined;
  const [resource] = await loadReturns(db, [row]);
  return resource && { requestHash: row.requestHash, resource };
}

/** Return rows with their lines and refunds, as the API returns them (two queries for any number). */
export async function loadReturns(db: DbOrTx, rows: ReturnRow[]): Promise<Return[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [lines, refunds, etims] = await Promise.all([
    db
      .select()
      .from(returnLines)
      .where(inArray(returnLines.returnId, ids))
      .orderBy(asc(returnLines.returnId), asc(returnLines.position)),
    db
      .select()
      .from(returnRefunds)
      .where(inArray(returnRefunds.returnId, ids))
      .orderBy(asc(returnRefunds.returnId), asc(returnRefunds.position)),
    etimsBlocksOfReturns(db, rows[0]?.businessId ?? '', ids),
  ]);
  return rows.map((row) =>
    toReturn(
      row,
      lines.filter((line) => line.returnId === row.id),
      refunds.filter((refund) => refund.returnId === row.id),
      etims.get(row.id) ?? null,
    ),
  );
}

export interface ReturnListFilter {
  businessId: string;
  timezone: string;
  from?: string;
  to?: string;
  saleId?: string;
  locationIds?: string[];
  after?: { occurredAt: Date; id: string };
  limit: number;
}

/** A page of returns, newest first by (occurredAt, id); `limit + 1` rows tell if more follow. */
export async function listReturnRows(db: DbOrTx, filter: ReturnListFilter): Promise<ReturnRow[]> {
  const conditions: (SQL | undefined)[] = [
    eq(returns.businessId, filter.businessId),
    filter.saleId ? eq(returns.saleId, filter.saleId) : undefined,
    filter.locationIds ? inArray(returns.locationId, filter.locationIds) : undefined,
    filter.from
      ? sql`${returns.occurredAt} >= (${filter.from}::date)::timestamp at time zone ${filter.timezone}`
      : undefined,
    filter.to
      ? sql`${returns.occurredAt} < (${filter.to}::date + 1)::timestamp at time zone ${filter.timezone}`
      : undefined,
    filter.after
      ? sql`(${returns.occurredAt}, ${returns.id}) < (${filter.after.occurredAt.toISOString()}::timestamptz, ${filter.after.id}::uuid)`
      : undefined,
  ];
  return db
    .select()
    .from(returns)
    .where(and(...conditions))
    .orderBy(desc(returns.occurredAt), desc(returns.id))
    .limit(filter.limit + 1);
}

/** A sold line as a return reads it (under the sale's lock), with what earlier returns took. */
export interface ReturnableLine {
  id: string;
  productId: string;
  name: string;
  quantity: number;
  unitPrice: number;
  taxRate: number;
  tax: number;
  total: number;
  saleDiscountShare: number;
  returnedQuantity: number;
  returnedTotal: number;
  returnedTax: number;
  /** The product tracks stock now (a restock moves stock only then). */
  trackStock: boolean;
}

/** The lines of a sale with the sums of their earlier returns; call with the sale row locked. */
export async function findReturnableLines(
  tx: Tx,
  businessId: string,
  saleId: string,
): Promise<ReturnableLine[]> {
  const earlier = tx
    .select({
      saleLineId: returnLines.saleLineId,
      total: sql<number>`sum(${returnLines.total})`.mapWith(Number).as('returned_total'),
      tax: sql<number>`sum(${returnLines.tax})`.mapWith(Number).as('returned_tax'),
    })
    .from(returnLines)
    .innerJoin(returns, eq(returns.id, returnLines.returnId))
    .where(and(eq(returns.businessId, businessId), eq(returns.saleId, saleId)))
    .groupBy(returnLines.saleLineId)
    .as('earlier');
  const rows = await tx
    .select({
      id: saleLines.id,
      productId: saleLines.productId,
      name: saleLines.name,
      quantity: saleLines.quantity,
      unitPrice: saleLines.unitPrice,
      taxRate: saleLines.taxRate,
      tax: saleLines.tax,
      total: saleLines.total,
      saleDiscountShare: saleLines.saleDiscountShare,
      returnedQuantity: saleLines.returnedQuantity,
      returnedTotal: sql<number>`coalesce(${earlier.total}, 0)`.mapWith(Number),
      returnedTax: sql<number>`coalesce(${earlier.tax}, 0)`.mapWith(Number),
      trackStock: products.trackStock,
    })
    .from(saleLines)
    .innerJoin(products, eq(products.id, saleLines.productId))
    .leftJoin(earlier, eq(earlier.saleLineId, saleLines.id))
    .where(and(eq(saleLines.businessId, businessId), eq(saleLines.saleId, saleId)))
    .orderBy(asc(saleLines.position));
  return rows;
}

/** The business's next return number (gap-free: the counter row is locked until commit). */
export async function takeReturnNumber(tx: Tx, businessId: string): Promise<number> {
  const [row] = await tx
    .insert(returnCounters)
    .values({ businessId, lastNumber: 1 })
    .onConflictDoUpdate({
      target: returnCounters.businessId,
      set: { lastNumber: sql`${returnCounters.lastNumber} + 1` },
    })
    .returning({ lastNumber: returnCounters.lastNumber });
  if (!row) throw new Error('the return counter returned no row');
  return row.lastNumber;
}

export interface ReturnToInsert {
  row: ReturnRow;
  lines: ReturnLineRow[];
  refunds: Omit<ReturnRefundRow, 'createdAt'>[];
}

/**
 * Inserts the return and adds its quantities to the sold lines and its total to the sale.
 * The line update is guarded (returned ≤ sold): false when a line would go over, which the
 * sale lock makes unreachable — the guard keeps the rule even if a caller forgot the lock.
 */
export async function insertReturn(tx: Tx, write: ReturnToInsert): Promise<boolean> {
  const { row, lines, refunds } = write;
  await tx.insert(returns).values(row);
  await tx.insert(returnLines).values(lines);
  if (refunds.length > 0) await tx.insert(returnRefunds).values(refunds);
  const updates = JSON.stringify(lines.map((line) => ({ id: line.saleLineId, q: line.quantity })));
  const updated = await tx.execute(sql`
    update sale_lines sl set returned_quantity = sl.returned_quantity + v.q
    from jsonb_to_recordset(${updates}::jsonb) as v(id uuid, q numeric)
    where sl.id = v.id and sl.business_id = ${row.businessId} and sl.sale_id = ${row.saleId}
      and sl.returned_quantity + v.q <= sl.quantity
    returning sl.id`);
  if (updated.rows.length !== lines.length) return false;
  await tx
    .update(sales)
    .set({ returnedTotal: sql`${sales.returnedTotal} + ${row.total}` })
    .where(and(eq(sales.businessId, row.businessId), eq(sales.id, row.saleId)));
  return true;
}
