import type { Job, JobsOptions, RepeatOptions } from 'bullmq';
import type { AppDeps } from '../deps.js';

/**
 * One BullMQ queue and its processor. Modules export these; src/jobs/registry.ts lists
 * them and the worker process runs every one.
 */
export interface QueueDefinition {
  queue: string;
  concurrency?: number;
  /** Applied to jobs added through this definition's queue (attempts, backoff…). */
  defaultJobOptions?: JobsOptions;
  /** Repeatable jobs on this queue: job name → schedule. Upserted at every worker start. */
  schedules?: Record<string, Omit<RepeatOptions, 'key'>>;
  /** Must be idempotent (delivery is at-least-once); throw UnrecoverableError for permanent failures. */
  process: (job: Job, deps: AppDeps) => Promise<unknown>;
}
