import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Db } from '../db/client.js';

/**
 * One registry per process. Several apps in one process (tests) share it; each pool they
 * create is reported under its application name.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: 20 });

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency by route template and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

const pools = new Map<string, pg.Pool>();

/** Reports a pg pool's connections (total, idle, waiting clients) as `db_pool_*` gauges. */
export function trackPool(name: string, pool: pg.Pool): void {
  pools.set(name, pool);
}

const poolGauge = (name: string, help: string, read: (pool: pg.Pool) => number) =>
  new Gauge({
    name,
    help,
    labelNames: ['pool'] as const,
    registers: [metricsRegistry],
    collect() {
      this.reset();
      for (const [poolName, pool] of pools) this.set({ pool: poolName }, read(pool));
    },
  });

poolGauge('db_pool_connections_total', 'Open PostgreSQL connections', (pool) => pool.totalCount);
poolGauge('db_pool_connections_idle', 'Idle PostgreSQL connections', (pool) => pool.idleCount);
poolGauge(
  'db_pool_waiting_requests',
  'Queries waiting for a connection',
  (pool) => pool.waitingCount,
);

/** Reads the outbox backlog; set by whichever process owns a database handle. */
type OutboxLagSource = () => Promise<{ pending: number; oldestAgeSeconds: number }>;
let outboxLagSource: OutboxLagSource | undefined;

/** Reports the outbox backlog (pending rows, age of the oldest) from this database. */
export function trackOutboxLag(db: Db): void {
  outboxLagSource = async () => {
    const result = await db.execute<{ pending: number; oldest: number | null }>(sql`
      select count(*)::int as pending,
             extract(epoch from (now() - min(created_at)))::float8 as oldest
      from outbox where dispatched_at is null`);
    const row = result.rows[0];
    return { pending: row?.pending ?? 0, oldestAgeSeconds: row?.oldest ?? 0 };
  };
}

const outboxGauge = (
  name: string,
  help: string,
  read: (lag: { pending: number; oldestAgeSeconds: number }) => number,
) =>
  new Gauge({
    name,
    help,
    registers: [metricsRegistry],
    async collect() {
      if (!outboxLagSource) return;
      try {
        this.set(read(await outboxLagSource()));
      } catch {
        // Database down: the gauge keeps its last value; /ready reports the outage.
      }
    },
  });

outboxGauge(
  'outbox_pending_messages',
  'Outbox rows not yet handed to the queues',
  (lag) => lag.pending,
);
outboxGauge(
  'outbox_oldest_pending_age_seconds',
  'Age of the oldest outbox row not yet handed to the queues (relay lag)',
  (lag) => lag.oldestAgeSeconds,
);

/** Reads BullMQ job counts per queue and state; set by the API when it can reach the queues. */
type QueueCountsSource = () => Promise<Record<string, Record<string, number>>>;
let queueCountsSource: QueueCountsSource | undefined;

export function trackQueueCounts(source: QueueCountsSource): void {
  queueCountsSource = source;
}

new Gauge({
  name: 'queue_jobs',
  help: 'BullMQ jobs by queue and state (waiting, active, delayed, failed)',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
  async collect() {
    if (!queueCountsSource) return;
    try {
      const counts = await queueCountsSource();
      this.reset();
      for (const [queue, states] of Object.entries(counts))
        for (const [state, count] of Object.entries(states)) this.set({ queue, state }, count);
    } catch {
      // Redis down: no sample rather than a stale one.
      this.reset();
    }
  },
});
