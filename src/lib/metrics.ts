import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type pg from 'pg';

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
