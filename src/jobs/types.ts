import type { Job, JobsOptions, RepeatOptions } from 'bullmq';
import type { AppDeps } from '../deps.js';

/**
 * One BullMQ queue and its processor. Modules export these; src/jobs/registry.ts lists
 * them and the worker process runs every one.
 */
export interface QueueDefinition {
  queue: string;
  concurrency?: number;
  /**
   * Applied to every job added to this queue, by the outbox relay and by schedules
   * (attempts, backoff…). Without it: 5 attempts, exponential backoff from 2 s.
   */
  defaultJobOptions?: JobsOptions;
  /** Delay before attempt `attemptsMade + 1` for `backoff: { type: 'custom' }` jobs. */
  backoffStrategy?: (attemptsMade: number, deps: AppDeps) => number;
  /** Repeatable jobs on this queue: job name → schedule. Upserted at every worker start. */
  schedules?: Record<string, Omit<RepeatOptions, 'key'>>;
  /** Must be idempotent (delivery is at-least-once); throw UnrecoverableError for permanent failures. */
  process: (job: Job, deps: AppDeps) => Promise<unknown>;
}

/** Retention and retries for queues that do not say otherwise. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 5_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** The job options a queue's jobs get: its definition's, over the defaults. */
export function jobOptionsFor(definition: QueueDefinition | undefined): JobsOptions {
  return { ...DEFAULT_JOB_OPTIONS, ...definition?.defaultJobOptions };
}
