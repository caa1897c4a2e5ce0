import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, sql, asc } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  businessMpesaSettings,
  c2bInbox,
  c2bPayments,
  customerPayments,
  salePayments,
  type BusinessMpesaSettingsRow,
  type C2bInboxRow,
  type C2bPaymentRow,
} from '../../db/schema/index.js';
import type { C2bPaymentStatus } from './till.rules.js';

export async function findTillSettings(
  db: DbOrTx,
  businessId: string,
): Promise<BusinessMpesaSettingsRow | undefined> {
  const [row] = await db
    .select()
    .from(businessMpesaSettings)
    .where(eq(businessMpesaSettings.businessId, businessId));
  return row;
}

/** Creates or replaces the settings; the C2B token is kept from the first write. */
export async function upsertTillSettings(
  db: DbOrTx,
  row: typeof businessMpesaSettings.$inferInsert,
): Promise<BusinessMpesaSettingsRow> {
  const [saved] = await db
    .insert(businessMpesaSettings)
    .values(row)
    .onConflictDoUpdate({
      target: businessMpesaSettings.businessId,
      set: {
        environment: row.environment,
        type: row.type,
        shortcode: row.shortcode,
        tillNumber: row.tillNumber,
        consumerKeyCiphertext: row.consumerKeyCiphertext,
        consumerSecretCiphertext: row.consumerSecretCiphertext,
        passkeyCiphertext: row.passkeyCiphertext,
        // Another shortcode or app: its URLs must be registered again.
        c2bRegisteredAt: sql`case when ${businessMpesaSettings.shortcode} = excluded.shortcode
          and ${businessMpesaSettings.environment} = excluded.environment
          then ${businessMpesaSettings.c2bRegisteredAt} end`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  if (!saved) throw new Error('settings not saved');
  return saved;
}

export async function markC2bRegistered(db: DbOrTx, businessId: string, at: Date): Promise<void> {
  await db
    .update(businessMpesaSettings)
    .set({ c2bRegisteredAt: at, updatedAt: sql`now()` })
    .where(eq(businessMpesaSettings.businessId, businessId));
}

export async function findBusinessByC2bToken(
  db: DbOrTx,
  tokenHash: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ businessId: businessMpesaSettings.businessId })
    .from(businessMpesaSettings)
    .where(eq(businessMpesaSettings.c2bTokenHash, tokenHash));
  return row?.businessId;
}

export async function insertC2bInbox(db: DbOrTx, row: typeof c2bInbox.$inferInsert): Promise<void> {
  await db.insert(c2bInbox).values(row);
}

export async function lockC2bInbox(db: DbOrTx, id: string): Promise<C2bInboxRow | undefined> {
  const [row] = await db.select().from(c2bInbox).where(eq(c2bInbox.id, id)).for('update');
  return row;
}

export async function finishC2bInbox(
  db: DbOrTx,
  id: string,
  outcome: string,
  at: Date,
): Promise<void> {
  await db.update(c2bInbox).set({ outcome, processedAt: at }).where(eq(c2bInbox.id, id));
}

/** Stored confirmations whose job never ran (lost from Redis): the safety net's work. */
export async function listUnprocessedC2bInbox(
  db: DbOrTx,
  cutoff: Date,
  limit: number,
  businessId?: string,
): Promise<string[]> {
  const rows = await db
    .select({ id: c2bInbox.id })
    .from(c2bInbox)
    .where(
      and(
        isNull(c2bInbox.processedAt),
        lte(c2bInbox.receivedAt, cutoff),
        businessId === undefined ? undefined : eq(c2bInbox.businessId, businessId),
      ),
    )
    .orderBy(asc(c2bInbox.receivedAt))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** Inserts the receipt unless the business already has this TransID; true when inserted. */
export async function insertC2bPayment(
  db: DbOrTx,
  row: typeof c2bPayments.$inferInsert,
): Promise<boolean> {
  const inserted = await db
    .insert(c2bPayments)
    .values(row)
    .onConflictDoNothing({ target: [c2bPayments.businessId, c2bPayments.transId] })
    .returning({ id: c2bPayments.id });
  return inserted.length > 0;
}

export async function findC2bPayment(
  db: DbOrTx,
  businessId: string,
  transId: string,
): Promise<C2bPaymentRow | undefined> {
  const [row] = await db
    .select()
    .from(c2bPayments)
    .where(and(eq(c2bPayments.businessId, businessId), eq(c2bPayments.transId, transId)));
  return row;
}

export async function claimC2bPayment(
  db: DbOrTx,
  id: string,
  claim:
    | { saleId: string; salePaymentId: string; claimedAt: Date }
    | { customerPaymentId: string; claimedAt: Date },
): Promise<void> {
  await db.update(c2bPayments).set(claim).where(eq(c2bPayments.id, id));
}

/**
 * Serialises everything that decides who holds one receipt (the sale's claim step and the
 * confirmation's apply step), across processes, until the transaction ends. Through
 * received_c2b_receipts, so the lock's key is spelt in one place only.
 */
export async function lockReceipt(db: DbOrTx, businessId: string, transId: string): Promise<void> {
  await receivedReceipts(db, businessId, [transId]);
}

/**
 * Of these TransIDs (sorted: the locks are taken in this order), those already received,
 * each read under its receipt lock (drizzle/0015_received_c2b_receipts.sql). Outside a
 * transaction the locks last for this statement only — enough to tell "not received":
 * a confirmation applied later sees the sale, which committed before this ran.
 */
export async function receivedReceipts(
  db: DbOrTx,
  businessId: string,
  sortedTransIds: string[],
): Promise<Set<string>> {
  const { rows } = await db.execute<{ trans_id: string }>(
    sql`select received_c2b_receipts(${businessId}::uuid, ${sql.param(sortedTransIds)}::text[]) as trans_id`,
  );
  return new Set(rows.map((row) => row.trans_id));
}

export interface NamingPaymentRow {
  id: string;
  /** Null for a payment on account (`customerPaymentId` is then set). */
  saleId: string | null;
  customerPaymentId: string | null;
  amount: number;
  needsReview: boolean;
  createdAt: Date;
}

/**
 * The business's M-Pesa payments naming `transId` (as typed, any case), oldest first: sale
 * payments and payments on account (customer_payments) together.
 */
export async function findPaymentsNaming(
  db: DbOrTx,
  businessId: string,
  transId: string,
): Promise<NamingPaymentRow[]> {
  const [sales, onAccount] = [
    await findSalePaymentsNaming(db, businessId, transId),
    await db
      .select({
        id: customerPayments.id,
        amount: customerPayments.amount,
        needsReview: customerPayments.needsReview,
        createdAt: customerPayments.createdAt,
      })
      .from(customerPayments)
      .where(
        and(
          eq(customerPayments.businessId, businessId),
          inArray(customerPayments.reference, [transId, transId.toLowerCase()]),
          eq(customerPayments.method, 'mpesa'),
        ),
      ),
  ];
  const all: NamingPaymentRow[] = [
    ...sales.map((row) => ({ ...row, customerPaymentId: null })),
    ...onAccount.map((row) => ({ ...row, saleId: null, customerPaymentId: row.id })),
  ];
  return all.sort(
    (a, b) =>
      a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

async function findSalePaymentsNaming(db: DbOrTx, businessId: string, transId: string) {
  return db
    .select({
      id: salePayments.id,
      saleId: salePayments.saleId,
      amount: salePayments.amount,
      needsReview: salePayments.needsReview,
      createdAt: salePayments.createdAt,
    })
    .from(salePayments)
    .where(
      and(
        eq(salePayments.businessId, businessId),
        inArray(salePayments.reference, [transId, transId.toLowerCase()]),
        eq(salePayments.method, 'mpesa'),
      ),
    )
    .orderBy(asc(salePayments.createdAt), asc(salePayments.id));
}

export async function flagSalePayment(db: DbOrTx, id: string): Promise<void> {
  await db.update(salePayments).set({ needsReview: true }).where(eq(salePayments.id, id));
}

export async function flagCustomerPayment(db: DbOrTx, id: string): Promise<void> {
  await db.update(customerPayments).set({ needsReview: true }).where(eq(customerPayments.id, id));
}

export async function listC2bPayments(
  db: DbOrTx,
  businessId: string,
  filter: {
    status?: C2bPaymentStatus;
    amount?: number;
    since?: Date;
    beforeId?: string;
    limit: number;
  },
): Promise<C2bPaymentRow[]> {
  return db
    .select()
    .from(c2bPayments)
    .where(
      and(
        eq(c2bPayments.businessId, businessId),
        filter.status === 'claimed'
          ? or(isNotNull(c2bPayments.salePaymentId), isNotNull(c2bPayments.customerPaymentId))
          : filter.status === 'unclaimed'
            ? and(isNull(c2bPayments.salePaymentId), isNull(c2bPayments.customerPaymentId))
            : undefined,
        filter.amount === undefined ? undefined : eq(c2bPayments.amount, filter.amount),
        filter.since === undefined ? undefined : gte(c2bPayments.receivedAt, filter.since),
        filter.beforeId === undefined ? undefined : lt(c2bPayments.id, filter.beforeId),
      ),
    )
    .orderBy(desc(c2bPayments.id))
    .limit(filter.limit + 1);
}

/** The M-Pesa payments (with a reference) of these sales: what the claim step looks at. */
export async function findMpesaPaymentsOfSales(
  db: DbOrTx,
  businessId: string,
  saleIds: string[],
): Promise<
  {
    id: string;
    saleId: string;
    position: number;
    method: string;
    amount: number;
    reference: string | null;
  }[]
> {
  return db
    .select({
      id: salePayments.id,
      saleId: salePayments.saleId,
      position: salePayments.position,
      method: salePayments.method,
      amount: salePayments.amount,
      reference: salePayments.reference,
    })
    .from(salePayments)
    .where(
      and(
        eq(salePayments.businessId, businessId),
        inArray(salePayments.saleId, saleIds),
        eq(salePayments.method, 'mpesa'),
        isNotNull(salePayments.reference),
      ),
    )
    .orderBy(asc(salePayments.saleId), asc(salePayments.position));
}
