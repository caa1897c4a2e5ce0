import { UnrecoverableError, type Job, type JobsOptions, type RepeatOptions } from 'bullmq';
import type { AppDeps } from '../deps.js';
import type { z } from '../lib/zod.js';
import type { OutboxMessage } from './outbox.js';

/**
 * One kind of job: its queue, its name, the shape of its payload and its handler. The
 * outbox row that enqueues it is built by `outboxMessage()` and routed back to this
 * definition by the registry: writer, relay and worker share one value, not a string.
 */
export interface JobDefinition<Payload = unknown> {
  queue: string;
  name: string;
  payload: z.ZodType<Payload>;
  /** Must be idempotent (delivery is at-least-once); throw UnrecoverableError for permanent failures. */
  handle: (payload: Payload, deps: AppDeps, job: Job) => Promise<unknown>;
}

/** A job definition of any payload (the registry's and queues' view). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<any>;

export const defineJob = <Payload>(definition: JobDefinition<Payload>): JobDefinition<Payload> =>
  definition;

/** The outbox `type` of a job row: `<queue>:<name>`, stored and shown in the outbox table. */
export const outboxTypeOf = (job: Pick<AnyJobDefinition, 'queue' | 'name'>): string =>
  `${job.queue}:${job.name}`;

/** The outbox row that enqueues `job` with `payload` once the caller's transaction commits. */
export function outboxMessage<Payload extends Record<string, unknown>>(
  job: JobDefinition<Payload>,
  businessId: string | null,
  payload: Payload,
): OutboxMessage {
  return { kind: 'job', type: outboxTypeOf(job), businessId, payload };
}

/** Runs `job` with its payload checked against the definition's schema. */
export async function runJob(definition: AnyJobDefinition, job: Job, deps: AppDeps) {
  const parsed = definition.payload.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`malformed ${outboxTypeOf(definition)} job data`);
  }
  return definition.handle(parsed.data, deps, job);
}

/** One job BullMQ should hold, as the relay plans it from an outbox row. */
export interface PlannedJob {
  queue: string;
  name: string;
  data: unknown;
  jobId: string;
}

/**
 * One BullMQ queue and its processor. Modules export these (`defineQueue`, in their
 * `*.job.ts`); src/jobs/registry.ts lists them and the worker process runs every one.
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
  /** The jobs this queue runs; an outbox row of one of them is routed here. */
  jobs: readonly AnyJobDefinition[];
  /** Must be idempotent (delivery is at-least-once); throw UnrecoverableError for permanent failures. */
  process: (job: Job, deps: AppDeps) => Promise<unknown>;
}

export interface QueueOptions extends Omit<QueueDefinition, 'process' | 'jobs' | 'schedules'> {
  /** Repeatable jobs: each a job of this queue (empty payload) with its schedule. */
  schedules?: readonly { job: AnyJobDefinition; every?: number; pattern?: string; tz?: string }[];
  /**
   * The job every job of this queue runs whatever its name (the email queue names its jobs
   * after the template, for operators); otherwise a job runs the definition of its name.
   */
  single?: AnyJobDefinition;
}

/** A queue whose processor runs each job's definition, found by the job's name. */
export function defineQueue(
  options: QueueOptions,
  jobs: readonly AnyJobDefinition[],
): QueueDefinition {
  const { schedules, single, ...rest } = options;
  const byName = new Map(jobs.map((job) => [job.name, job]));
  for (const job of jobs) {
    if (job.queue !== options.queue) throw new Error(`${job.name} is not a ${options.queue} job`);
  }
  return {
    ...rest,
    jobs,
    schedules: schedules
      ? Object.fromEntries(schedules.map(({ job, ...schedule }) => [job.name, schedule]))
      : undefined,
    process: async (job, deps) => {
      const definition = single ?? byName.get(job.name);
      if (!definition) throw new UnrecoverableError(`unknown ${options.queue} job ${job.name}`);
      return runJob(definition, job, deps);
    },
  };
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
