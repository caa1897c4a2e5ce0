import { and, eq, inArray } from 'drizzle-orm';
import type { AppDeps } from '../../src/deps.js';
import { outbox, type OutboxKind } from '../../src/db/schema/index.js';

/** The outbox rows a business's work wrote, oldest first; optionally of one kind or some types. */
export async function outboxRowsOf(
  deps: AppDeps,
  businessId: string,
  filter: { kind?: OutboxKind; types?: string[] } = {},
) {
  return deps.db
    .select()
    .from(outbox)
    .where(
      and(
        eq(outbox.businessId, businessId),
        filter.kind === undefined ? undefined : eq(outbox.kind, filter.kind),
        filter.types === undefined ? undefined : inArray(outbox.type, filter.types),
      ),
    )
    .orderBy(outbox.id);
}
