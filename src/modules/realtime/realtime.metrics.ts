import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../../lib/metrics.js';

const openCounts = new Set<() => number>();

/** Reports a hub's open sockets in `realtime_connections` (several hubs in one test process). */
export function trackConnections(count: () => number): () => void {
  openCounts.add(count);
  return () => openCounts.delete(count);
}

new Gauge({
  name: 'realtime_connections',
  help: 'Open authenticated /realtime WebSockets on this process',
  registers: [metricsRegistry],
  collect() {
    let total = 0;
    for (const count of openCounts) total += count();
    this.set(total);
  },
});

export const realtimeMessages = new Counter({
  name: 'realtime_messages_total',
  help: 'Events sent on /realtime sockets, live or replayed on resume',
  labelNames: ['mode'] as const,
  registers: [metricsRegistry],
});

export const realtimeDrops = new Counter({
  name: 'realtime_drops_total',
  help: 'Sockets closed or refused by the server, by reason (slow_consumer, connection_limit, unauthenticated, bad_message, heartbeat)',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const realtimeDeliveryLag = new Histogram({
  name: 'realtime_delivery_lag_seconds',
  help: 'From the outbox row being written to the live event being handed to its sockets',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});
