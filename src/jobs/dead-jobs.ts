import { Queue, type Job } from 'bullmq';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { deadJobs } from '../db/schema/index.js';
import { createQueueConnection, queuePrefix } from './connection.js';
import { queueDefinitions } from './registry.js';
import { jobOptionsFor } from './types.js';

export type DeadJob = typeof deadJobs.$inferSelect;

/** Records a job that will not run again by itself (attempts used up, or unrecoverable). */
export async function recordDeadJob(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  queue: string,
  job: Job,
  error: Error,
): Promise<void> {
  await deps.db.insert(deadJobs).values({
    queue,
    jobName: job.name,
    jobId: job.id ?? '',
    data: job.data as unknown,
    error: error.message.slice(0, 2_000),
    attempts: job.attemptsMade,
    failedAt: deps.clock(),
  });
}

/** Dead jobs not yet retried, newest first. */
export async function listDeadJobs(
  deps: Pick<AppDeps, 'db'>,
  options: { queue?: string; limit?: number; includeRetried?: boolean } = {},
): Promise<DeadJob[]> {
  const filters = [
    options.queue === undefined ? undefined : eq(deadJobs.queue, options.queue),
    options.includeRetried ? undefined : isNull(deadJobs.retriedAt),
  ];
  return deps.db
    .select()
    .from(deadJobs)
    .where(and(...filters))
    .orderBy(desc(deadJobs.id))
    .limit(options.limit ?? 100);
}

/**
 * Runs a dead job again with a fresh set of attempts: the failed BullMQ job is retried in
 * place when Redis still has it, otherwise the job is added again under the same id.
 */
export async function retryDeadJob(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config'>,
  id: number,
): Promise<DeadJob | undefined> {
  const [dead] = await deps.db.select().from(deadJobs).where(eq(deadJobs.id, id));
  if (!dead) return undefined;
  const connection = createQueueConnection(deps.config);
  const queue = new Queue(dead.queue, { connection, prefix: queuePrefix(deps.config) });
  try {
    const existing = await queue.getJob(dead.jobId);
    const state = existing ? await existing.getState() : 'absent';
    if (existing && state === 'failed') {
      await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } else if (state === 'absent' || state === 'completed' || state === 'unknown') {
      // Same id: a second retry of the same dead job while this one is queued is a no-op.
      if (existing) await existing.remove();
      const definition = queueDefinitions.find((candidate) => candidate.queue === dead.queue);
      await queue.add(dead.jobName, dead.data, { ...jobOptionsFor(definition), jobId: dead.jobId });
    } // else: already waiting, delayed or running again.
  } finally {
    await queue.close();
    connection.disconnect();
  }
  const [updated] = await deps.db
    .update(deadJobs)
    .set({ retriedAt: deps.clock() })
    .where(eq(deadJobs.id, id))
    .returning();
  return updated;
}
