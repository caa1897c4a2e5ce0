import { sql } from 'drizzle-orm';
import { bigint, check, integer, pgTable } from 'drizzle-orm/pg-core';

/**
 * The live-update sequencer's one row: outbox rows with an id at or below
 * `sequencedAfter` (those already there at the upgrade) are never given an event_seq.
 */
export const realtimeSequencer = pgTable(
  'realtime_sequencer',
  {
    id: integer().primaryKey().default(1),
    sequencedAfter: bigint({ mode: 'number' }).notNull(),
  },
  (table) => [check('realtime_sequencer_one_row', sql`${table.id} = 1`)],
);
