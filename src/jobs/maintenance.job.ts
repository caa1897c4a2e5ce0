import { lt } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { idempotencyKeys } from '../db/schema/index.js';
import type { QueueDefinition } from './types.js';

/** Deletes Idempotency-Key records past their retention (at least 7 days after first use). */
export async function pruneIdempotencyKeys(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  const deleted = await deps.db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, deps.clock()))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}

export const maintenanceQueue: QueueDefinition = {
  queue: 'maintenance',
  concurrency: 1,
  schedules: { 'prune-idempotency-keys': { every: 60 * 60 * 1000 } },
  process: async (job, deps) => {
    switch (job.name) {
      case 'prune-idempotency-keys':
        return { deleted: await pruneIdempotencyKeys(deps) };
      default:
        throw new Error(`unknown maintenance job ${job.name}`);
    }
  },
};
