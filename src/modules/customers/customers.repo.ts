import { and, asc, eq, gt, gte, isNull, lt, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  customerLedgerEntries,
  customerPayments,
  customers,
  sales,
  smsMessages,
  type CustomerLedgerEntryRow,
  type CustomerPaymentRow,
  type CustomerRow,
} from '../../db/schema/index.js';

export type NewCustomer = typeof customers.$inferInsert;

/** Inserts unless the id exists (any business's); returns the row when it was inserted. */
export async function insertCustomer(db: DbOrTx, row: NewCustomer): Promise<CustomerRow | null> {
  const [inserted] = await db.insert(customers).values(row).onConflictDoNothing().returning();
  return inserted ?? null;
}

export async function findCustomer(
  db: DbOrTx,
  businessId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<CustomerRow | undefined> {
  const query = db
    .select()
    .from(customers)
    .where(and(eq(customers.businessId, businessId), eq(customers.id, id)))
    .limit(1);
  const [row] = await (options.lock ? query.for('update') : query);
  return row;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The phone digits a search may name: 0712…, 712…, 254712… all match 254712…. */
function phoneFragment(q: string): string | null {
  const digits = q.replace(/[\s+-]/g, '');
  if (!/^\d{3,}$/.test(digits)) return null;
  if (digits.startsWith('254')) return digits.slice(3) || null;
  if (digits.startsWith('0')) return digits.slice(1) || null;
  return digits;
}

/** The business's customers (erased ones left out) by id, matching `q` on name or phone. */
export async function listCustomers(
  db: DbOrTx,
  businessId: string,
  page: { q?: string; afterId?: string; limit: number },
): Promise<CustomerRow[]> {
  const phone = page.q === undefined ? null : phoneFragment(page.q);
  const match =
    page.q === undefined
      ? undefined
      : or(
          sql`${customers.name} ilike ${`%${escapeLike(page.q)}%`}`,
          phone === null ? undefined : sql`${customers.phone} like ${`%${escapeLike(phone)}%`}`,
        );
  return db
    .select()
    .from(customers)
    .where(
      and(
        eq(customers.businessId, businessId),
        isNull(customers.deletedAt),
        match,
        page.afterId ? gt(customers.id, page.afterId) : undefined,
      ),
    )
    .orderBy(asc(customers.id))
    .limit(page.limit + 1);
}

export async function updateCustomer(
  db: DbOrTx,
  businessId: string,
  id: string,
  changes: Partial<NewCustomer>,
): Promise<CustomerRow | undefined> {
  const [row] = await db
    .update(customers)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(customers.businessId, businessId), eq(customers.id, id)))
    .returning();
  return row;
}

/**
 * Erases the person: name, contacts, PIN and note; and the phone on their sales and SMS
 * log. Entries, payments, sales and the balance stay (they are facts).
 */
export async function eraseCustomer(
  db: DbOrTx,
  businessId: string,
  id: string,
  name: string,
  at: Date,
): Promise<void> {
  await db
    .update(customers)
    .set({
      name,
      phone: null,
      email: null,
      kraPin: null,
      note: null,
      deletedAt: at,
      updatedAt: at,
    })
    .where(and(eq(customers.businessId, businessId), eq(customers.id, id)));
  await db
    .update(sales)
    .set({ customerPhone: null })
    .where(and(eq(sales.businessId, businessId), eq(sales.customerId, id)));
  await db
    .update(smsMessages)
    .set({ phone: '', message: '', updatedAt: at })
    .where(and(eq(smsMessages.businessId, businessId), eq(smsMessages.customerId, id)));
}

export async function findPaymentByRequest(
  db: DbOrTx,
  businessId: string,
  clientRequestId: string,
): Promise<CustomerPaymentRow | undefined> {
  const [row] = await db
    .select()
    .from(customerPayments)
    .where(
      and(
        eq(customerPayments.businessId, businessId),
        eq(customerPayments.clientRequestId, clientRequestId),
      ),
    )
    .limit(1);
  return row;
}

export async function insertPayment(
  db: DbOrTx,
  row: typeof customerPayments.$inferInsert,
): Promise<CustomerPaymentRow> {
  const [inserted] = await db.insert(customerPayments).values(row).returning();
  if (!inserted) throw new Error('insert returned nothing');
  return inserted;
}

/** The entry a payment wrote (its balanceAfter). */
export async function findPaymentEntry(
  db: DbOrTx,
  businessId: string,
  paymentId: string,
): Promise<CustomerLedgerEntryRow | undefined> {
  const [row] = await db
    .select()
    .from(customerLedgerEntries)
    .where(
      and(
        eq(customerLedgerEntries.businessId, businessId),
        eq(customerLedgerEntries.paymentId, paymentId),
      ),
    )
    .limit(1);
  return row;
}

/** A customer's entries in ledger order, from `afterPosition`, within [from, to). */
export async function listEntries(
  db: DbOrTx,
  businessId: string,
  customerId: string,
  page: { from?: Date; to?: Date; afterPosition?: number; limit: number },
): Promise<CustomerLedgerEntryRow[]> {
  return db
    .select()
    .from(customerLedgerEntries)
    .where(
      and(
        eq(customerLedgerEntries.businessId, businessId),
        eq(customerLedgerEntries.customerId, customerId),
        page.from ? gte(customerLedgerEntries.createdAt, page.from) : undefined,
        page.to ? lt(customerLedgerEntries.createdAt, page.to) : undefined,
        page.afterPosition === undefined
          ? undefined
          : gt(customerLedgerEntries.position, page.afterPosition),
      ),
    )
    .orderBy(asc(customerLedgerEntries.position))
    .limit(page.limit + 1);
}

/** The customers among `ids` that are the business's (a sale checks its customerId). */
export async function existingCustomerIds(
  db: DbOrTx,
  businessId: string,
  ids: string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.businessId, businessId), sql`${customers.id} = any(${ids}::uuid[])`));
  return new Set(rows.map((row) => row.id));
}
