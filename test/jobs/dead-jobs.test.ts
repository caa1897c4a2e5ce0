import { spawn } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { deadJobs } from '../../src/db/schema/index.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { defineJob, defineQueue } from '../../src/jobs/types.js';
import { z } from '../../src/lib/zod.js';
import { newId } from '../../src/lib/ids.js';
import { testEnv } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually, useJobs } from '../helpers/jobs.js';

let healed = false;
const runs: string[] = [];
const explodeJob = defineJob({
  queue: 'poison',
  name: 'explode',
  payload: z.unknown(),
  handle: (_payload, _deps, job) => {
    runs.push(String(job.id));
    if (!healed) return Promise.reject(new Error('boom: the payload is poison'));
    return Promise.resolve({ ok: true });
  },
});
const poisonQueue = defineQueue(
  { queue: 'poison', defaultJobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 50 } } },
  [explodeJob],
);
const jobs = useJobs({ workers: [poisonQueue] });

/** Runs `pnpm jobs:dead …` as an operator would (a real process on the test database). */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/jobs-dead.ts', ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...testEnv({ REDIS_PREFIX: jobs.config.redis.prefix }),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('dead jobs', () => {
  it('records a job that used every attempt; an operator lists it and retries it', async () => {
    const business = await createBusiness(jobs.deps);
    jobs.businessIds.add(business.id);
    const messageId = newId();
    await writeOutbox(jobs.deps.db, {
      kind: 'job',
      type: 'poison:explode',
      businessId: business.id,
      messageId,
      payload: { orderId: 7 },
    });
    const dead = await eventually(async () => {
      const [row] = await jobs.deps.db.select().from(deadJobs).where(eq(deadJobs.jobId, messageId));
      return row;
    });
    expect(dead).toMatchObject({
      queue: 'poison',
      jobName: 'explode',
      data: { orderId: 7 },
      attempts: 3,
      error: 'boom: the payload is poison',
      retriedAt: null,
    });
    expect(runs.filter((id) => id === messageId)).toHaveLength(3);

    const listed = await cli('list', '--queue', 'poison');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${dead.id}\t`);
    expect(listed.stdout).toContain(`poison\texplode\t${messageId}\tattempts=3\tdead\tboom`);

    healed = true;
    const retried = await cli('retry', String(dead.id));
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`retried ${dead.id}: poison/explode ${messageId}`);
    await eventually(() => runs.filter((id) => id === messageId).length === 4);
    const [after] = await jobs.deps.db.select().from(deadJobs).where(eq(deadJobs.id, dead.id));
    expect(after!.retriedAt).not.toBeNull();
    expect((await cli('list', '--queue', 'poison')).stdout).not.toContain(`${dead.id}\t`);

    const missing = await cli('retry', '99999999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dead job 99999999');
  }, 90_000); // spawns real processes: tsx start-up is slow on a busy 2-core box
});
