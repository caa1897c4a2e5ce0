import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Role, UserStatus } from '../../db/schema/index.js';

/** Any constant; only the sequencers (relays) take it, one batch at a time. */
const SEQUENCER_LOCK_KEY = 727_021;

export interface SequencedBatch {
  count: number;
  lastSeq: number;
}

/**
 * Gives committed, not yet numbered event rows their `event_seq`, in id order, and commits.
 * The transaction-level advisory lock is held until the commit, so batches of concurrent
 * relays are numbered and made visible one after the other, and only committed rows are
 * numbered: a row committed late (after a higher id) is simply numbered in a later batch.
 * So once a reader sees seq N, every seq below N is visible too (or was rolled back and
 * never will be): resuming "after N" never skips an event.
 */
export async function sequenceEvents(db: Db, limit: number): Promise<SequencedBatch> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${SEQUENCER_LOCK_KEY})`);
    const picked = await tx.execute<{ id: number }>(sql`
      select id from outbox
      where kind = 'event' and event_seq is null and business_id is not null
        and id > (select sequenced_after from realtime_sequencer where id = 1)
      order by id
      limit ${limit}`);
    const ids = picked.rows.map((row) => row.id);
    if (ids.length === 0) return { count: 0, lastSeq: 0 };
    // One call reserves the whole range: only the lock holder moves this sequence.
    const reserved = await tx.execute<{ last: number }>(sql`
      select setval('outbox_event_seq', nextval('outbox_event_seq') + ${ids.length - 1}) as last`);
    const lastSeq = reserved.rows[0]?.last ?? 0;
    const firstSeq = lastSeq - ids.length + 1;
    const seqs = ids.map((_, index) => firstSeq + index);
    await tx.execute(sql`
      update outbox o set event_seq = u.seq
      from unnest(${`{${ids.join(',')}}`}::bigint[], ${`{${seqs.join(',')}}`}::bigint[]) as u(id, seq)
      where o.id = u.id`);
    return { count: ids.length, lastSeq };
  });
}

export interface StreamEvent {
  seq: number;
  businessId: string;
  type: string;
  createdAtMs: number;
  payload: Record<string, unknown>;
  /** The sale's cashier or the payment's initiator (role filtering); null if none. */
  ownerId: string | null;
}

type StreamRow = {
  seq: number;
  business_id: string;
  type: string;
  created_ms: number;
  payload: Record<string, unknown>;
  owner_id: string | null;
};

/** Events numbered after `after`, in order; of one business, or of all. */
export async function readEvents(
  db: Db,
  options: { after: number; limit: number; businessId?: string },
): Promise<StreamEvent[]> {
  const business =
    options.businessId === undefined ? sql`` : sql`and o.business_id = ${options.businessId}`;
  const result = await db.execute<StreamRow>(sql`
    select o.event_seq as seq, o.business_id, o.type, o.payload,
           (extract(epoch from o.created_at) * 1000)::float8 as created_ms,
           coalesce(p.created_by::text, o.payload->>'cashierId') as owner_id
    from outbox o
    left join payments p
      on p.business_id = o.business_id
     and p.id = case when o.type like 'payment.%'
                      and o.payload->>'id' ~ '^[0-9a-fA-F-]{36}$'
                     then (o.payload->>'id')::uuid end
    where o.event_seq > ${options.after} ${business}
    order by o.event_seq
    limit ${options.limit}`);
  return result.rows.map((row) => ({
    seq: row.seq,
    businessId: row.business_id,
    type: row.type,
    createdAtMs: row.created_ms,
    payload: row.payload,
    ownerId: row.owner_id,
  }));
}

/** The highest event id so far: every event at or below it is committed. */
export async function headSeq(db: Db): Promise<number> {
  const result = await db.execute<{ head: number | null }>(
    sql`select max(event_seq) as head from outbox where event_seq is not null`,
  );
  return result.rows[0]?.head ?? 0;
}

export interface SessionState {
  sessionId: string;
  userId: string;
  revoked: boolean;
  expiresAtMs: number;
  userStatus: UserStatus;
  role: Role;
}

/** The current session and user state of many sockets at once (the periodic re-check). */
export async function sessionStates(
  db: Db,
  sessionIds: readonly string[],
): Promise<SessionState[]> {
  if (sessionIds.length === 0) return [];
  const result = await db.execute<{
    session_id: string;
    user_id: string;
    revoked: boolean;
    expires_ms: number;
    status: UserStatus;
    role: Role;
  }>(sql`
    select s.id as session_id, s.user_id, s.revoked_at is not null as revoked,
           (extract(epoch from s.expires_at) * 1000)::float8 as expires_ms, u.status, u.role
    from auth_sessions s join users u on u.id = s.user_id
    where s.id = any(${`{${sessionIds.join(',')}}`}::uuid[])`);
  return result.rows.map((row) => ({
    sessionId: row.session_id,
    userId: row.user_id,
    revoked: row.revoked,
    expiresAtMs: row.expires_ms,
    userStatus: row.status,
    role: row.role,
  }));
}
