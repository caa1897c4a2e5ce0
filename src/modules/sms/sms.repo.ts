import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { smsMessages, type SmsMessageRow } from '../../db/schema/index.js';

export async function insertSms(
  db: DbOrTx,
  row: typeof smsMessages.$inferInsert,
): Promise<SmsMessageRow> {
  const [inserted] = await db.insert(smsMessages).values(row).returning();
  if (!inserted) throw new Error('insert returned nothing');
  return inserted;
}

/** The business's SMS log, newest first. */
export async function listSms(
  db: DbOrTx,
  businessId: string,
  page: { beforeId?: string; limit: number },
): Promise<SmsMessageRow[]> {
  return db
    .select()
    .from(smsMessages)
    .where(
      and(
        eq(smsMessages.businessId, businessId),
        page.beforeId ? lt(smsMessages.id, page.beforeId) : undefined,
      ),
    )
    .orderBy(desc(smsMessages.id))
    .limit(page.limit + 1);
}

export async function findSmsForJob(db: DbOrTx, id: string): Promise<SmsMessageRow | undefined> {
  const [row] = await db.select().from(smsMessages).where(eq(smsMessages.id, id)).limit(1);
  return row;
}

/** Moves a message on only from `from` (a repeated job or late report changes nothing). */
export async function updateSms(
  db: DbOrTx,
  id: string,
  from: SmsMessageRow['status'][],
  changes: Partial<typeof smsMessages.$inferInsert>,
): Promise<boolean> {
  const rows = await db
    .update(smsMessages)
    .set({ ...changes, updatedAt: new Date() })
    .where(and(eq(smsMessages.id, id), inArray(smsMessages.status, from)))
    .returning({ id: smsMessages.id });
  return rows.length > 0;
}

export async function findSmsByProviderId(
  db: DbOrTx,
  providerMessageId: string,
): Promise<SmsMessageRow | undefined> {
  const [row] = await db
    .select()
    .from(smsMessages)
    .where(eq(smsMessages.providerMessageId, providerMessageId))
    .limit(1);
  return row;
}
