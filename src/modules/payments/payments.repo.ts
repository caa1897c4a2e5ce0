import { and, asc, eq, isNull, lte, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { mpesaCallbackInbox, payments } from '../../db/schema/index.js';

export type PaymentRow = typeof payments.$inferSelect;
export type NewPaymentRow = typeof payments.$inferInsert;
export type InboxRow = typeof mpesaCallbackInbox.$inferSelect;

export async function insertPayment(db: DbOrTx, row: NewPaymentRow): Promise<void> {
  await db.insert(payments).values(row);
}

/** Records Daraja's acceptance (the CheckoutRequestID a callback or query is keyed on). */
export async function recordRequested(
  db: DbOrTx,
  id: string,
  ack: { merchantRequestId: string; checkoutRequestId: string; customerMessage: string },
): Promise<PaymentRow> {
  const [row] = await db
    .update(payments)
    .set({
      merchantRequestId: ack.merchantRequestId,
      checkoutRequestId: ack.checkoutRequestId,
      customerMessage: ack.customerMessage,
      updatedAt: sql`now()`,
    })
    .where(eq(payments.id, id))
    .returning();
  if (!row) throw new Error(`payment ${id} vanished`);
  return row;
}

export async function updatePayment(
  db: DbOrTx,
  id: string,
  values: Partial<NewPaymentRow>,
): Promise<PaymentRow> {
  const [row] = await db
    .update(payments)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(payments.id, id))
    .returning();
  if (!row) throw new Error(`payment ${id} vanished`);
  return row;
}

export async function findPayment(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<PaymentRow | undefined> {
  const [row] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.businessId, businessId), eq(payments.id, id)))
    .limit(1);
  return row;
}

export async function findPaymentByTokenHash(
  db: DbOrTx,
  tokenHash: string,
): Promise<{ id: string; businessId: string } | undefined> {
  const [row] = await db
    .select({ id: payments.id, businessId: payments.businessId })
    .from(payments)
    .where(eq(payments.callbackTokenHash, tokenHash))
    .limit(1);
  return row;
}

/** The payment, locked for the rest of the transaction: settlements are serialised on it. */
export async function lockPayment(db: DbOrTx, id: string): Promise<PaymentRow | undefined> {
  const [row] = await db.select().from(payments).where(eq(payments.id, id)).for('update');
  return row;
}

export async function findPaymentIdBy(
  db: DbOrTx,
  column: 'checkoutRequestId' | 'mpesaReceiptNumber',
  value: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ id: payments.id })
    .from(payments)
    .where(eq(payments[column], value))
    .limit(1);
  return row?.id;
}

/** Pending payments old enough to reconcile, oldest first (optionally one shop's). */
export async function listPendingOlderThan(
  db: DbOrTx,
  cutoff: Date,
  limit: number,
  businessId?: string,
): Promise<PaymentRow[]> {
  return db
    .select()
    .from(payments)
    .where(
      and(
        eq(payments.status, 'pending'),
        lte(payments.createdAt, cutoff),
        businessId === undefined ? undefined : eq(payments.businessId, businessId),
      ),
    )
    .orderBy(asc(payments.createdAt))
    .limit(limit);
}

export async function insertInbox(
  db: DbOrTx,
  row: typeof mpesaCallbackInbox.$inferInsert,
): Promise<void> {
  await db.insert(mpesaCallbackInbox).values(row);
}

export async function lockInbox(db: DbOrTx, id: string): Promise<InboxRow | undefined> {
  const [row] = await db
    .select()
    .from(mpesaCallbackInbox)
    .where(eq(mpesaCallbackInbox.id, id))
    .for('update');
  return row;
}

export async function markInboxProcessed(
  db: DbOrTx,
  id: string,
  values: { outcome: string; checkoutRequestId: string | null; processedAt: Date },
): Promise<void> {
  await db.update(mpesaCallbackInbox).set(values).where(eq(mpesaCallbackInbox.id, id));
}

/** Callbacks stored but not applied after `cutoff` (their job was lost): a safety net. */
export async function listUnprocessedInbox(
  db: DbOrTx,
  cutoff: Date,
  limit: number,
  businessId?: string,
): Promise<string[]> {
  const rows = await db
    .select({ id: mpesaCallbackInbox.id })
    .from(mpesaCallbackInbox)
    .innerJoin(payments, eq(payments.id, mpesaCallbackInbox.paymentId))
    .where(
      and(
        isNull(mpesaCallbackInbox.processedAt),
        lte(mpesaCallbackInbox.receivedAt, cutoff),
        businessId === undefined ? undefined : eq(payments.businessId, businessId),
      ),
    )
    .orderBy(asc(mpesaCallbackInbox.receivedAt))
    .limit(limit);
  return rows.map((row) => row.id);
}
