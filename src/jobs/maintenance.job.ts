import { and, isNotNull, lt, sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { idempotencyKeys, outbox } from '../db/schema/index.js';
import { z } from '../lib/zod.js';
import { defineJob, defineQueue } from './types.js';

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
  // With RabbitMQ on, an event the broker has not confirmed yet stays until it has.
  const keepUnpublished = deps.config.amqp.url
    ? sql`and (kind <> 'event' or amqp_published_at is not null)`
    : sql``;
  let total = 0;
  for (;;) {
    const deleted = await deps.db.execute(sql`
      delete from ${outbox} where id in (
        select id from ${outbox}
        where ${and(isNotNull(outbox.dispatchedAt), lt(outbox.dispatchedAt, cutoff))}
        ${keepUnpublished}
        limit 5000)`);
    total += deleted.rowCount ?? 0;
    if ((deleted.rowCount ?? 0) < 5000) return total;
  }
}

const pruneIdempotencyKeysJob = defineJob({
  queue: 'maintenance',
  name: 'prune-idempotency-keys',
  payload: z.unknown(),
  handle: async (_payload, deps) => ({ deleted: await pruneIdempotencyKeys(deps) }),
});

const pruneOutboxJob = defineJob({
  queue: 'maintenance',
  name: 'prune-outbox',
  payload: z.unknown(),
  handle: async (_payload, deps) => ({ deleted: await pruneOutbox(deps) }),
});

const HOURLY = 60 * 60 * 1000;

export const maintenanceQueue = defineQueue(
  {
    queue: 'maintenance',
    concurrency: 1,
    schedules: [
      { job: pruneIdempotencyKeysJob, every: HOURLY },
      { job: pruneOutboxJob, every: HOURLY },
    ],
  },
  [pruneIdempotencyKeysJob, pruneOutboxJob],
);
