import { and, gte, isNotNull } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { outbox } from '../db/schema/index.js';

/**
 * Marks outbox rows dispatched at or after `since` as undispatched again, so the relay
 * enqueues them anew (same job ids). For recovering from a Redis that lost its data: every
 * consumer is idempotent (a sent email or a succeeded delivery is skipped), so replaying
 * more than was lost repeats nothing. Returns how many rows will be relayed again.
 */
export async function redispatchOutboxSince(db: DbOrTx, since: Date): Promise<number> {
  const rows = await db
    .update(outbox)
    .set({ dispatchedAt: null, lastError: 'redispatched by operator' })
    .where(and(isNotNull(outbox.dispatchedAt), gte(outbox.dispatchedAt, since)))
    .returning({ id: outbox.id });
  return rows.length;
}
