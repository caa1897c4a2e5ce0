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
}

export interface OutboxRelay {
  /** Moves one batch; resolves to how many rows were dispatched. */
  relayBatch: () => Promise<number>;
  close: () => Promise<void>;
}

/**
 * The outbox relay: claims committed, undispatched rows in id order (`FOR UPDATE SKIP
 * LOCKED`, so any number of relays share the work without overlap), turns each into BullMQ
 * jobs with deterministic ids, marks them dispatched, and commits. With Redis down the
 * batch rolls back and nothing is lost; it is retried every poll until Redis answers.
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

  trackOutboxLag(deps.db);

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
      try {
        if (redis.status !== 'ready') {
          // Still connecting at start-up is not an outage: wait for the next poll quietly.
          if (redis.status === 'connecting' || redis.status === 'connect') {
            await new Promise((resolve) => setTimeout(resolve, pollMs));
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
      if (moved === batchSize) continue;
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
    close: async () => {
      stopped = true;
      wake?.();
      await running;
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
