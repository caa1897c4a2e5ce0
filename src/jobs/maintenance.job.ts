import { lt } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { idempotencyKeys } from '../db/schema/index.js';

/** Deletes Idempotency-Key records past their retention (at least 7 days after first use). */
export async function pruneIdempotencyKeys(deps: Pick<AppDeps, 'db' | 'clock'>): Promise<number> {
  const deleted = await deps.db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, deps.clock()))
    .returning({ key: idempotencyKeys.key });
  return deleted.length;
}
