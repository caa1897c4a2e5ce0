import { Queue, type JobsOptions } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { outbox } from '../db/schema/index.js';
import { trackOutboxLag } from '../lib/metrics.js';
import { createProducerConnection, queuePrefix } from './connection.js';
import { outboxPlanner, queueDefinitions } from './registry.js';
import { jobOptionsFor, type PlannedJob, type QueueDefinition } from './types.js';
import { withTimeout } from '../lib/timeout.js';
import { startPublish, type Publish } from '../observability/trace.js';
import { listenTo } from '../db/listen.js';
import { sequenceEvents } from '../modules/realtime/realtime.repo.js';
import { realtimeChannel } from '../modules/realtime/realtime.hub.js';

type OutboxRow = typeof outbox.$inferSelect;

interface TracedJob extends PlannedJob {
  /** Carries the writing request's trace to the worker (BullMQ telemetry metadata). */
  trace?: Publish['jobOptions'];
}

export interface OutboxRelayOptions {
  /** Redis for the relay's queues (default: config.redis.url). Tests point it at a dead port. */
  redisUrl?: string;
  pollMs?: number;
  batchSize?: number;
  /** Upper bound on one enqueue round trip; past it the batch is rolled back and retried. */
  enqueueTimeoutMs?: number;
  /**
   * Only rows of these businesses. For tests, where several independent "deployments"
   * (Redis prefixes) share one database; production relays take every row.
   */
  businessIds?: ReadonlySet<string>;
  /** The queues jobs are routed to and their job options (default: the registry). */
  definitions?: QueueDefinition[];
  /**
   * Number new events for live updates and announce them on Redis (default true). Off for
   * tests that run several relays of separate "deployments" on one database.
   */
  sequence?: boolean;
}

export interface OutboxRelay {
  /** Moves one batch; resolves to how many rows were dispatched. */
  relayBatch: () => Promise<number>;
  /** Numbers one batch of new events (live updates) and announces it; resolves to the count. */
  sequenceBatch: () => Promise<number>;
  close: () => Promise<void>;
}

/**
 * The outbox relay: claims committed, undispatched rows in id order (`FOR UPDATE SKIP
 * LOCKED`, so any number of relays share the work without overlap), turns each into BullMQ
 * jobs with deterministic ids, marks them dispatched, and commits. With Redis down the
 * batch rolls back and nothing is lost; it is retried every poll until Redis answers.
 *
 * It is woken by PostgreSQL (`LISTEN outbox_insert`, a trigger NOTIFYs at every insert's
 * commit); the poll every `pollMs` (5 s) is only the safety net for a lost notification,
 * retries and rows made available later. Before dispatching, it numbers new events for
 * live updates (`event_seq`, realtime.repo.ts) and announces them on Redis so every API
 * process pushes them to its sockets.
 */
export function startOutboxRelay(deps: AppDeps, options: OutboxRelayOptions = {}): OutboxRelay {
  const pollMs = options.pollMs ?? deps.config.outbox.pollMs;
  const batchSize = options.batchSize ?? 100;
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? 5_000;
  const config = options.redisUrl
    ? { ...deps.config, redis: { ...deps.config.redis, url: options.redisUrl } }
    : deps.config;
  const redis = createProducerConnection(config);
  const queues = new Map<string, Queue>();
  const definitions = options.definitions ?? queueDefinitions;
  const planner = outboxPlanner(definitions);
  let stopped = false;
  let failing = false;
  let wake: (() => void) | undefined;
  // Set by a notification that arrives while a batch runs: go round again at once.
  const signal = { woken: false };
  const wasWoken = () => signal.woken;
  const sequence = options.sequence ?? true;
  let sequenceFailing = false;

  trackOutboxLag(deps.db);

  const notified = () => {
    signal.woken = true;
    wake?.();
  };
  const listener = listenTo(deps.pool, ['outbox_insert'], notified, deps.logger, {
    // Rows committed while the connection was down were not announced: look now.
    onConnected: notified,
  });

  const sequenceBatch = async (): Promise<number> => {
    const batch = await sequenceEvents(deps.db, 500);
    if (batch.count > 0 && redis.status === 'ready') {
      // A lost announcement is caught by the API processes' own poll (REALTIME_POLL_MS).
      await redis.publish(realtimeChannel(config), String(batch.lastSeq)).catch(() => 0);
    }
    return batch.count;
  };

  const sequenceAll = async () => {
    if (!sequence) return;
    try {
      while ((await sequenceBatch()) === 500 && !stopped);
      if (sequenceFailing) deps.logger.info('outbox relay: numbering events again');
      sequenceFailing = false;
    } catch (error) {
      if (!sequenceFailing) {
        deps.logger.warn({ err: error }, 'outbox relay: cannot number events; will retry');
      }
      sequenceFailing = true;
    }
  };

  const queueFor = (name: string): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      const definition = definitions.find((candidate) => candidate.queue === name);
      queue = new Queue(name, {
        connection: redis,
        prefix: queuePrefix(config),
        defaultJobOptions: jobOptionsFor(definition),
      });
      queue.on('error', () => undefined); // reported once per outage below
      queues.set(name, queue);
    }
    return queue;
  };

  const scope = () => {
    if (!options.businessIds) return sql``;
    const ids = [...options.businessIds];
    if (ids.length === 0) return sql`and false`;
    return sql`and business_id in (${sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    )})`;
  };

  const relayBatch = async (): Promise<number> => {
    if (redis.status !== 'ready') return 0;
    return deps.db.transaction(async (tx) => {
      const rows = await tx.execute<OutboxRow>(sql`
        select id, message_id as "messageId", business_id as "businessId", kind, type, payload,
               created_at as "createdAt", trace_context as "traceContext"
        from ${outbox}
        where dispatched_at is null and available_at <= now() ${scope()}
        order by id
        limit ${batchSize}
        for update skip locked`);
      if (rows.rows.length === 0) return 0;
      const jobs: TracedJob[] = [];
      const publishes: Publish[] = [];
      try {
        for (const row of rows.rows) {
          const queue = planner.queueOf(row);
          if (queue === undefined) {
            deps.logger.error(
              { messageId: row.messageId, type: row.type },
              'outbox relay: no queue runs this job type; dispatched to nothing',
            );
            continue;
          }
          // A `send <queue>` span in the trace of the request that wrote the row.
          const publish = startPublish(row.traceContext, queue, row.messageId);
          publishes.push(publish);
          const planned = await publish.run(() => planner.plan(deps.db, normalise(row)));
          jobs.push(...planned.map((job) => ({ ...job, trace: publish.jobOptions })));
        }
        await withTimeout(enqueue(jobs, queueFor), enqueueTimeoutMs);
      } catch (error) {
        for (const publish of publishes) publish.end(error);
        throw error;
      }
      for (const publish of publishes) publish.end();
      const ids = rows.rows.map((row) => row.id);
      await tx.execute(sql`
        update ${outbox} set dispatched_at = now(), attempts = attempts + 1, last_error = null
        where id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`);
      return ids.length;
    });
  };

  const loop = async () => {
    while (!stopped) {
      let moved = 0;
      signal.woken = false;
      await sequenceAll();
      try {
        if (redis.status !== 'ready') {
          // Still connecting at start-up is not an outage: look again shortly, quietly.
          if (redis.status === 'connecting' || redis.status === 'connect') {
            await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, 100)));
            continue;
          }
          throw new Error('Redis is not connected');
        }
        moved = await relayBatch();
        if (moved > 0) deps.logger.debug({ moved }, 'outbox relay dispatched');
        if (failing) deps.logger.info('outbox relay: dispatching again');
        failing = false;
      } catch (error) {
        // Logged once per outage; the rows stay in PostgreSQL and the next poll retries.
        if (!failing) deps.logger.warn({ err: error }, 'outbox relay: cannot dispatch; will retry');
        failing = true;
      }
      if (moved === batchSize || wasWoken()) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };
  const running = loop();

  return {
    relayBatch,
    sequenceBatch,
    close: async () => {
      stopped = true;
      wake?.();
      await running;
      await listener.close();
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      redis.disconnect();
    },
  };
}

function normalise(row: OutboxRow): OutboxRow {
  // Raw rows carry timestamps as strings and bigints as numbers (see db/client.ts).
  return { ...row, createdAt: new Date(row.createdAt) };
}

async function enqueue(jobs: TracedJob[], queueFor: (name: string) => Queue): Promise<void> {
  const byQueue = new Map<string, TracedJob[]>();
  for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
  await Promise.all(
    [...byQueue].map(([name, list]) =>
      queueFor(name).addBulk(
        list.map((job) => ({
          name: job.name,
          data: job.data,
          opts: { jobId: job.jobId, ...job.trace } satisfies JobsOptions,
        })),
      ),
    ),
  );
}
