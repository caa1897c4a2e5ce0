import { Queue } from 'bullmq';
import type { AppDeps } from '../deps.js';
import { queuePrefix } from './connection.js';
import { queueDefinitions } from './registry.js';

const cache = new WeakMap<AppDeps, Queue[]>();

/**
 * Read-side handles on every registered queue for the API process (dashboard, metrics).
 * They share the API's Redis client, whose commands fail fast while Redis is down.
 */
export function inspectQueues(deps: AppDeps): Queue[] {
  let queues = cache.get(deps);
  if (!queues) {
    queues = queueDefinitions.map((definition) => {
      const queue = new Queue(definition.queue, {
        connection: deps.redis,
        prefix: queuePrefix(deps.config),
      });
      queue.on('error', () => undefined); // the API's Redis client reports outages once
      return queue;
    });
    cache.set(deps, queues);
  }
  return queues;
}

/** Job counts per queue and state, for the `queue_jobs` gauge. */
export async function countQueueJobs(
  deps: AppDeps,
): Promise<Record<string, Record<string, number>>> {
  if (deps.redis.status !== 'ready') throw new Error('Redis is not connected');
  const entries = await Promise.all(
    inspectQueues(deps).map(
      async (queue) =>
        [queue.name, await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')] as const,
    ),
  );
  return Object.fromEntries(entries);
}
