import { Queue, type JobsOptions } from 'bullmq';
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import type { Db } from '../db/client.js';
import { outbox } from '../db/schema/index.js';
import { trackOutboxLag } from '../lib/metrics.js';
import { createFanOutDeliveries } from '../modules/webhooks/webhooks.service.js';
import { createProducerConnection, queuePrefix } from './connection.js';
import { queueDefinitions } from './registry.js';
import { jobOptionsFor, type QueueDefinition } from './types.js';
import { withTimeout } from '../lib/timeout.js';
import { startPublish, type Publish } from '../observability/trace.js';

export const EMAIL_QUEUE = 'email';
export const WEBHOOK_QUEUE = 'webhooks';
export const WEBHOOK_DELIVER_JOB = 'deliver';

type OutboxRow = typeof outbox.$inferSelect;

interface PlannedJob {
  queue: string;
  name: string;
  data: unknown;
  jobId: string;
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
  /** Where each queue's job options come from (default: the registry). */
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
  let stopped = false;
  let failing = false;
  let wake: (() => void) | undefined;

  trackOutboxLag(deps.db);

  const queueFor = (name: string): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      const definition = (options.definitions ?? queueDefinitions).find(
        (candidate) => candidate.queue === name,
      );
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
      const jobs: PlannedJob[] = [];
      const publishes: Publish[] = [];
      try {
        for (const row of rows.rows) {
          // A `send <queue>` span in the trace of the request that wrote the row.
          const publish = startPublish(row.traceContext, queueOf(row), row.messageId);
          publishes.push(publish);
          const planned = await publish.run(() => planJobs(deps.db, normalise(row)));
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

/** The queue a row's jobs go to (events: webhook deliveries; jobs: `queue:name`). */
function queueOf(row: OutboxRow): string {
  if (row.kind === 'event') return WEBHOOK_QUEUE;
  if (row.kind === 'email') return EMAIL_QUEUE;
  return row.type.split(':')[0] ?? row.type;
}

function normalise(row: OutboxRow): OutboxRow {
  // Raw rows carry timestamps as strings and bigints as numbers (see db/client.ts).
  return { ...row, createdAt: new Date(row.createdAt) };
}

/**
 * What one outbox row becomes in BullMQ (API.md "Guarantees beyond single requests").
 * Fan-out deliveries are written outside the claiming transaction (on `db`, committed at
 * once): a worker may pick a job up before the relay commits, and must find its delivery.
 * They are keyed by (endpoint, message), so a batch retried after a Redis failure reuses
 * them and their job ids: a re-relay adds nothing new.
 */
async function planJobs(db: Db, row: OutboxRow): Promise<PlannedJob[]> {
  switch (row.kind) {
    case 'event': {
      const deliveryIds = await createFanOutDeliveries(db, {
        businessId: row.businessId,
        messageId: row.messageId,
        eventType: row.type,
        eventAt: row.createdAt,
        data: row.payload,
      });
      return deliveryIds.map((deliveryId) => ({
        queue: WEBHOOK_QUEUE,
        name: WEBHOOK_DELIVER_JOB,
        data: { deliveryId },
        jobId: deliveryId,
      }));
    }
    case 'email':
      // Ids, not data: the payload (addresses, reset links) stays in PostgreSQL.
      return [
        {
          queue: EMAIL_QUEUE,
          name: row.type,
          data: { messageId: row.messageId },
          jobId: row.messageId,
        },
      ];
    case 'job': {
      const separator = row.type.indexOf(':');
      const queue = separator === -1 ? row.type : row.type.slice(0, separator);
      const name = separator === -1 ? row.type : row.type.slice(separator + 1);
      return [{ queue, name, data: row.payload, jobId: row.messageId }];
    }
    default:
      return [];
  }
}

async function enqueue(jobs: PlannedJob[], queueFor: (name: string) => Queue): Promise<void> {
  const byQueue = new Map<string, PlannedJob[]>();
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
