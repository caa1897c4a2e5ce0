import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { reportExports, type ExportStatus } from '../../db/schema/index.js';

export type ExportRow = typeof reportExports.$inferSelect;
export type NewExportRow = typeof reportExports.$inferInsert;

export async function insertExport(db: DbOrTx, row: NewExportRow): Promise<ExportRow> {
  const [inserted] = await db.insert(reportExports).values(row).returning();
  if (!inserted) throw new Error('insert returned no row');
  return inserted;
}

/** An export of the business (another business's id finds nothing). */
export async function findExport(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<ExportRow | undefined> {
  const [row] = await db
    .select()
    .from(reportExports)
    .where(and(eq(reportExports.businessId, businessId), eq(reportExports.id, id)))
    .limit(1);
  return row;
}

/** The export a job names (the job carries only its id). */
export async function findExportForJob(db: DbOrTx, id: string): Promise<ExportRow | undefined> {
  const [row] = await db.select().from(reportExports).where(eq(reportExports.id, id)).limit(1);
  return row;
}

export async function markExportRunning(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db
    .update(reportExports)
    .set({
      status: 'running',
      startedAt: now,
      error: null,
      attempts: sql`${reportExports.attempts} + 1`,
      updatedAt: now,
    })
    .where(eq(reportExports.id, id));
}

export async function markExportDone(
  db: DbOrTx,
  id: string,
  change: { storageKey: string; rowCount: number; now: Date },
): Promise<void> {
  await db
    .update(reportExports)
    .set({
      status: 'done',
      storageKey: change.storageKey,
      rowCount: change.rowCount,
      error: null,
      completedAt: change.now,
      updatedAt: change.now,
    })
    .where(eq(reportExports.id, id));
}

/** After a failed attempt: `queued` again while retries remain, `failed` with a reason after the last. */
export async function markExportAttemptFailed(
  db: DbOrTx,
  id: string,
  change: { status: Extract<ExportStatus, 'queued' | 'failed'>; error: string; now: Date },
): Promise<void> {
  await db
    .update(reportExports)
    .set({
      status: change.status,
      error: change.error,
      completedAt: change.status === 'failed' ? change.now : null,
      updatedAt: change.now,
    })
    .where(eq(reportExports.id, id));
}
