import { and, isNotNull, lt, sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { idempotencyKeys, outbox } from '../db/schema/index.js';
import type { QueueDefinition } from './types.js';

/** Deletes Idempotency-Key records past their retention (at least 7 days after first use). */
export async function pruneIdempotencyKeys(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  const deleted = await deps.db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, deps.clock()))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}

/** Deletes outbox rows dispatched more than OUTBOX_RETENTION_DAYS ago, in batches. */
export async function pruneOutbox(deps: Pick<AppDeps, 'db' | 'clock' | 'config'>): Promise<number> {
  const cutoff = new Date(
    deps.clock().getTime() - deps.config.outbox.retentionDays * 24 * 3600 * 1000,
  );
  let total = 0;
  for (;;) {
    const deleted = await deps.db.execute(sql`
      delete from ${outbox} where id in (
        select id from ${outbox}
        where ${and(isNotNull(outbox.dispatchedAt), lt(outbox.dispatchedAt, cutoff))}
        limit 5000)`);
    total += deleted.rowCount ?? 0;
    if ((deleted.rowCount ?? 0) < 5000) return total;
  }
}

export const maintenanceQueue: QueueDefinition = {
  queue: 'maintenance',
  concurrency: 1,
  schedules: {
    'prune-idempotency-keys': { every: 60 * 60 * 1000 },
    'prune-outbox': { every: 60 * 60 * 1000 },
  },
  process: async (job, deps) => {
    switch (job.name) {
      case 'prune-idempotency-keys':
        return { deleted: await pruneIdempotencyKeys(deps) };
      case 'prune-outbox':
        return { deleted: await pruneOutbox(deps) };
      default:
        throw new Error(`unknown maintenance job ${job.name}`);
    }
  },
};
