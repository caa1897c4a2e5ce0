import { sql } from 'drizzle-orm';
import { Gauge } from 'prom-client';
import type { AppDeps } from '../deps.js';
import { metricsRegistry } from '../lib/metrics.js';

/**
 * The RabbitMQ publisher's backlog, read from PostgreSQL at scrape time by the API (the
 * worker, which publishes, has no HTTP listener). Reported only when AMQP_URL is set. The
 * count is bounded by the partial index `outbox_amqp_pending_idx`.
 */
let source: AppDeps | undefined;

export function trackAmqpBacklog(deps: AppDeps): void {
  if (deps.config.amqp.url) source = deps;
}

const backlog = (deps: AppDeps) =>
  deps.db.execute<{ count: number; oldest: number | null }>(sql`
    select count(*)::int as count,
           extract(epoch from (now() - min(created_at)))::float8 as oldest
    from outbox where kind = 'event' and amqp_published_at is null`);

const backlogGauge = (
  name: string,
  help: string,
  read: (row: { count: number; oldest: number | null }) => number,
) =>
  new Gauge({
    name,
    help,
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      if (!source) return;
      try {
        const row = (await backlog(source)).rows[0];
        if (row) this.set(read(row));
      } catch {
        // Database down: no sample rather than a stale one.
      }
    },
  });

backlogGauge(
  'amqp_events_unpublished',
  'Events RabbitMQ has not confirmed yet (waiting in the outbox)',
  (row) => row.count,
);
backlogGauge(
  'amqp_events_unpublished_oldest_age_seconds',
  'Age of the oldest event RabbitMQ has not confirmed yet (0 when none)',
  (row) => row.oldest ?? 0,
);
