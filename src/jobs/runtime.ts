import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppDeps } from '../deps.js';
import { createQueueConnection, queuePrefix } from './connection.js';
import { pruneIdempotencyKeys } from './maintenance.job.js';

export const MAINTENANCE_QUEUE = 'maintenance';

/** Repeatable jobs: name → schedule. Registered idempotently at every worker start. */
const SCHEDULES: Record<string, { every: number }> = {
  'prune-idempotency-keys': { every: 60 * 60 * 1000 },
};

export interface WorkerRuntime {
  close: (timeoutMs: number) => Promise<void>;
}

/** Starts every BullMQ worker and registers the repeatable jobs. */
export async function startWorkers(deps: AppDeps): Promise<WorkerRuntime> {
  const connection: Redis = createQueueConnection(deps.config);
  const prefix = queuePrefix(deps.config);
  const maintenanceQueue = new Queue(MAINTENANCE_QUEUE, { connection, prefix });

  const maintenance = new Worker(
    MAINTENANCE_QUEUE,
    async (job: Job) => {
      switch (job.name) {
        case 'prune-idempotency-keys':
          return { deleted: await pruneIdempotencyKeys(deps) };
        default:
          throw new Error(`unknown maintenance job ${job.name}`);
      }
    },
    { connection, prefix, concurrency: 1 },
  );
  maintenance.on('failed', (job, error) =>
    deps.logger.error({ err: error, job: job?.name }, 'maintenance job failed'),
  );
  maintenance.on('error', (error) =>
    deps.logger.warn({ err: { message: error.message } }, 'maintenance worker error'),
  );

  for (const [name, schedule] of Object.entries(SCHEDULES)) {
    await maintenanceQueue.upsertJobScheduler(name, schedule, { name });
  }

  const workers = [maintenance];
  return {
    close: async (timeoutMs) => {
      // Let running jobs finish up to the deadline; a job cut off is retried (stalled check).
      const graceful = Promise.all(workers.map((worker) => worker.close()));
      const timedOut = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), timeoutMs).unref(),
      );
      if ((await Promise.race([graceful, timedOut])) === 'timeout') {
        await Promise.all(workers.map((worker) => worker.close(true)));
      }
      await maintenanceQueue.close();
      connection.disconnect();
    },
  };
}
