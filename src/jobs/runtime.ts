import { Queue, Worker, type Job } from 'bullmq';
import type { AppDeps } from '../deps.js';
import { createQueueConnection, isRedisConnectionError, queuePrefix } from './connection.js';
import { recordDeadJob } from './dead-jobs.js';
import { queueDefinitions } from './registry.js';
import { jobOptionsFor, type QueueDefinition } from './types.js';
import { reportDeadJob } from '../observability/report.js';
import { runJobInTrace } from '../observability/trace.js';

export interface WorkerRuntime {
  close: (timeoutMs: number) => Promise<void>;
}

/** Starts a BullMQ worker for every queue definition and upserts the repeatable jobs. */
export async function startWorkers(
  deps: AppDeps,
  definitions: QueueDefinition[] = queueDefinitions,
): Promise<WorkerRuntime> {
  const connection = createQueueConnection(deps.config);
  const prefix = queuePrefix(deps.config);
  const queues: Queue[] = [];
  const workers: Worker[] = [];

  for (const definition of definitions) {
    const { backoffStrategy } = definition;
    // Each job continues the trace of the request that caused it (src/observability/).
    const process = (job: Job) =>
      runJobInTrace(definition.queue, job, () => definition.process(job, deps));
    const worker = new Worker(definition.queue, process, {
      connection,
      prefix,
      concurrency: definition.concurrency ?? 1,
      // A job of a dead worker is picked up again once its lock expires (stalled check).
      lockDuration: deps.config.jobs.lockDurationMs,
      stalledInterval: deps.config.jobs.stalledIntervalMs,
      settings: backoffStrategy
        ? { backoffStrategy: (attemptsMade: number) => backoffStrategy(attemptsMade, deps) }
        : undefined,
    });
    worker.on('failed', (job, error) => {
      if (!job) return;
      // finishedOn is set only when BullMQ gives up: attempts used or UnrecoverableError.
      const dead = job.finishedOn !== undefined;
      deps.logger.warn(
        { err: error, queue: definition.queue, job: job.name, jobId: job.id, dead },
        dead ? 'job dead' : 'job failed; will retry',
      );
      if (dead) {
        reportDeadJob(error, definition.queue, job);
        recordDeadJob(deps, definition.queue, job, error).catch((recordError: unknown) =>
          deps.logger.error({ err: recordError, jobId: job.id }, 'could not record a dead job'),
        );
      }
    });
    worker.on('error', (error) => {
      // Redis being away is said once per outage (createRedis); every worker would repeat
      // it on each reconnect attempt, a block of lines every few seconds.
      if (isRedisConnectionError(error)) return;
      deps.logger.warn(
        { err: { message: error.message }, queue: definition.queue },
        'worker error',
      );
    });
    workers.push(worker);

    if (definition.schedules) {
      const queue = new Queue(definition.queue, { connection, prefix });
      queue.on('error', () => undefined); // the worker's listener reports connection trouble
      queues.push(queue);
      for (const [name, schedule] of Object.entries(definition.schedules)) {
        await queue.upsertJobScheduler(name, schedule, {
          name,
          opts: jobOptionsFor(definition),
        });
      }
    }
  }

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
      await Promise.all(queues.map((queue) => queue.close()));
      connection.disconnect();
    },
  };
}
