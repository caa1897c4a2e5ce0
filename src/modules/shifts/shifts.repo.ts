import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import {
  shiftCashMovements,
  shifts,
  type ShiftCashMovementRow,
  type ShiftRow,
  type ShiftStatus,
} from '../../db/schema/index.js';

export type { ShiftCashMovementRow, ShiftRow };

/** A shift of the business (the till's id is unique only within its business). */
export async function findShift(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<ShiftRow | undefined> {
  const [row] = await db
    .select()
    .from(shifts)
    .where(and(eq(shifts.businessId, businessId), eq(shifts.id, id)))
    .limit(1);
  return row;
}

/** Locks a shift for a change of its drawer (a cash movement) or its state (the close). */
export async function lockShift(
  tx: Tx,
  businessId: string,
  id: string,
): Promise<ShiftRow | undefined> {
  const [row] = await tx
    .select()
    .from(shifts)
    .where(and(eq(shifts.businessId, businessId), eq(shifts.id, id)))
    .for('update')
    .limit(1);
  return row;
}

export async function insertShift(
  db: DbOrTx,
  values: typeof shifts.$inferInsert,
): Promise<ShiftRow> {
  const [row] = await db.insert(shifts).values(values).returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function markShiftClosed(
  tx: Tx,
  businessId: string,
  id: string,
  close: Pick<
    ShiftRow,
    | 'closedAt'
    | 'closeReceivedAt'
    | 'closeSaleNumber'
    | 'closedBy'
    | 'countedCash'
    | 'expectedCash'
    | 'closeNote'
    | 'closeHash'
  >,
): Promise<ShiftRow> {
  const [row] = await tx
    .update(shifts)
    .set({ ...close, status: 'closed', updatedAt: sql`date_trunc('milliseconds', now())` })
    .where(and(eq(shifts.businessId, businessId), eq(shifts.id, id)))
    .returning();
  if (!row) throw new Error(`shift ${id} vanished while locked`);
  return row;
}

/** True when the location has an open shift (it cannot be archived then). */
export async function hasOpenShiftAt(
  db: DbOrTx,
  businessId: string,
  locationId: string,
): Promise<boolean> {
  const [row] = await db
    .select({ id: shifts.id })
    .from(shifts)
    .where(
      and(
        eq(shifts.businessId, businessId),
        eq(shifts.locationId, locationId),
        eq(shifts.status, 'open'),
      ),
    )
    .limit(1);
  return row !== undefined;
}

export interface ShiftListFilter {
  businessId: string;
  timezone: string;
  status?: ShiftStatus;
  register?: string;
  locationIds?: string[];
  /** Forced to the caller for cashiers, who read only their own shifts. */
  cashierId?: string;
  from?: string;
  to?: string;
  after?: { openedAt: Date; id: string };
  limit: number;
}

/** A page of shifts, newest first by (openedAt, id); `limit + 1` rows tell if more follow. */
export async function listShiftRows(db: DbOrTx, filter: ShiftListFilter): Promise<ShiftRow[]> {
  const conditions: (SQL | undefined)[] = [
    eq(shifts.businessId, filter.businessId),
    filter.status ? eq(shifts.status, filter.status) : undefined,
    filter.register ? sql`lower(${shifts.register}) = lower(${filter.register})` : undefined,
    filter.locationIds ? inArray(shifts.locationId, filter.locationIds) : undefined,
    filter.cashierId ? eq(shifts.cashierId, filter.cashierId) : undefined,
    filter.from
      ? sql`${shifts.openedAt} >= (${filter.from}::date)::timestamp at time zone ${filter.timezone}`
      : undefined,
    filter.to
      ? sql`${shifts.openedAt} < (${filter.to}::date + 1)::timestamp at time zone ${filter.timezone}`
      : undefined,
    filter.after
      ? sql`(${shifts.openedAt}, ${shifts.id}) < (${filter.after.openedAt.toISOString()}::timestamptz, ${filter.after.id}::uuid)`
      : undefined,
  ];
  return db
    .select()
    .from(shifts)
    .where(and(...conditions))
    .orderBy(desc(shifts.openedAt), desc(shifts.id))
    .limit(filter.limit + 1);
}

export async function findCashMovement(
  db: DbOrTx,
  businessId: string,
  clientRequestId: string,
): Promise<ShiftCashMovementRow | undefined> {
  const [row] = await db
    .select()
    .from(shiftCashMovements)
    .where(
      and(
        eq(shiftCashMovements.businessId, businessId),
        eq(shiftCashMovements.clientRequestId, clientRequestId),
      ),
    )
    .limit(1);
  return row;
}

export async function insertCashMovement(
  tx: Tx,
  values: typeof shiftCashMovements.$inferInsert,
): Promise<ShiftCashMovementRow> {
  const [row] = await tx.insert(shiftCashMovements).values(values).returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}
