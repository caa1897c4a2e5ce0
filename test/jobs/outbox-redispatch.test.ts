import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema/index.js';
import { redispatchOutboxSince } from '../../src/jobs/outbox-replay.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { newId } from '../../src/lib/ids.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';

const { deps } = createTestApp();

describe('redispatching the outbox after Redis lost its data', () => {
  it('makes rows dispatched since the given time pending again, and leaves older ones alone', async () => {
    const shop = await createBusiness(deps);
    const ids = [newId(), newId(), newId()];
    await writeOutbox(
      deps.db,
      ids.map((messageId) => ({
        kind: 'event',
        type: 'sale.created',
        businessId: shop.id,
        messageId,
        payload: {},
      })),
    );
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
    await deps.db
      .update(outbox)
      .set({ dispatchedAt: at(120) })
      .where(eq(outbox.messageId, ids[0]!));
    await deps.db
      .update(outbox)
      .set({ dispatchedAt: at(5) })
      .where(eq(outbox.messageId, ids[1]!));
    // ids[2] was never dispatched: the relay will take it anyway.

    const count = await redispatchOutboxSince(deps.db, at(30));
    expect(count).toBeGreaterThanOrEqual(1);
    const rows = await deps.db
      .select({ messageId: outbox.messageId, dispatchedAt: outbox.dispatchedAt })
      .from(outbox)
      .where(inArray(outbox.messageId, ids));
    const byId = new Map(rows.map((row) => [row.messageId, row.dispatchedAt]));
    expect(byId.get(ids[0]!)).toBeInstanceOf(Date);
    expect(byId.get(ids[1]!)).toBeNull();
    expect(byId.get(ids[2]!)).toBeNull();
  });
});
