import { sql } from 'drizzle-orm';
import { Gauge } from 'prom-client';
import type { AppDeps } from '../deps.js';
import { metricsRegistry } from '../lib/metrics.js';
import { checkReadiness } from '../modules/ops/ops.service.js';

/**
 * What the alert rules and the dashboard (deploy/observability/) need beyond the request
 * metrics: the worker has no HTTP listener, so its outcomes are read from PostgreSQL, where
 * it records them, at scrape time by the API. Every query is bounded by an index. With
 * several API replicas each reports the same values; rules and panels take `max`.
 */
let source: AppDeps | undefined;

export function trackOperations(deps: AppDeps): void {
  source = deps;
}

/** Runs a gauge's read; a failed read (database down) leaves no sample rather than a stale one. */
function gauge<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (
    deps: NonNullable<typeof source>,
    set: (labels: Record<L, string>, value: number) => void,
  ) => Promise<void>,
) {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [metricsRegistry],
    async collect() {
      if (!source) return;
      const values: [Record<L, string>, number][] = [];
      try {
        await read(source, (labels, value) => values.push([labels, value]));
      } catch {
        // no sample
      }
      this.reset();
      for (const [labels, value] of values) this.set(labels as Partial<Record<L, string>>, value);
    },
  });
}

gauge(
  'backend_dependency_up',
  'Whether PostgreSQL and Redis answer this API process (1 up, 0 down)',
  ['dependency'] as const,
  async (deps, set) => {
    const { checks } = await checkReadiness(deps);
    set({ dependency: 'postgresql' }, checks.database === 'ok' ? 1 : 0);
    set({ dependency: 'redis' }, checks.redis === 'ok' ? 1 : 0);
  },
);

gauge(
  'jobs_dead',
  'Jobs that used up their attempts and were not retried yet (pnpm jobs:dead list)',
  ['queue'] as const,
  async (deps, set) => {
    const result = await deps.db.execute<{ queue: string; count: number }>(sql`
      select queue, count(*)::int as count from dead_jobs where retried_at is null group by queue`);
    for (const row of result.rows) set({ queue: row.queue }, row.count);
  },
);

gauge(
  'webhook_attempts_recent',
  'Webhook delivery attempts of the last 5 minutes by result (newest 5,000 attempts at most)',
  ['result'] as const,
  async (deps, set) => {
    const result = await deps.db.execute<{ status: string; count: number }>(sql`
      select status, count(*)::int as count
      from (select status, at from webhook_attempts order by id desc limit 5000) recent
      where at > now() - interval '5 minutes'
      group by status`);
    const counts = new Map(result.rows.map((row) => [row.status, row.count]));
    for (const status of ['succeeded', 'failed']) set({ result: status }, counts.get(status) ?? 0);
  },
);

const pendingPayments = (deps: AppDeps) =>
  deps.db.execute<{ count: number; oldest: number | null }>(sql`
    select count(*)::int as count,
           extract(epoch from (now() - min(created_at)))::float8 as oldest
    from payments where status = 'pending'`);

gauge('mpesa_payments_pending', 'M-Pesa STK payments still pending', [], async (deps, set) => {
  set({}, (await pendingPayments(deps)).rows[0]?.count ?? 0);
});

gauge(
  'mpesa_payment_pending_oldest_age_seconds',
  'Age of the oldest M-Pesa STK payment still pending (0 when none)',
  [],
  async (deps, set) => {
    set({}, (await pendingPayments(deps)).rows[0]?.oldest ?? 0);
  },
);
