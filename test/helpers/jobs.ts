import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { closeDeps, createDeps, type AppDeps } from '../../src/deps.js';
import {
  startOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
} from '../../src/jobs/outbox-relay.js';
import { queueDefinitions } from '../../src/jobs/registry.js';
import { startWorkers, type WorkerRuntime } from '../../src/jobs/runtime.js';
import type { QueueDefinition } from '../../src/jobs/types.js';
import { createLogger } from '../../src/lib/logger.js';
import { testEnv } from './app.js';

/** A Redis prefix of its own for one test file, so its workers only see its jobs. */
export const filePrefix = (base: string) => `${base}_${randomBytes(3).toString('hex')}`;

export interface JobsHarness {
  config: Config;
  deps: AppDeps;
  /** The relay only moves rows of these businesses (tests share one database). */
  businessIds: Set<string>;
  relay: OutboxRelay | undefined;
  runtime: WorkerRuntime | undefined;
}

export interface JobsHarnessOptions {
  env?: Record<string, string | undefined>;
  relay?: boolean | OutboxRelayOptions;
  workers?: boolean | QueueDefinition[];
}

/**
 * A worker "process" inside the test: its own deps (pool, Redis prefix, mailer), the BullMQ
 * workers and the outbox relay, started before the file's tests and closed after them.
 */
export function useJobs(options: JobsHarnessOptions = {}): JobsHarness {
  const env = testEnv(options.env);
  if (options.env?.REDIS_PREFIX === undefined) env.REDIS_PREFIX = filePrefix(env.REDIS_PREFIX!);
  const config = loadConfig(env);
  const harness: JobsHarness = {
    config,
    deps: createDeps({
      config,
      logger: createLogger(config),
      databaseUrl: config.database.url!,
      applicationName: 'test-worker',
    }),
    businessIds: new Set(),
    relay: undefined,
    runtime: undefined,
  };
  beforeAll(async () => {
    if (options.workers !== false) {
      harness.runtime = await startWorkers(
        harness.deps,
        Array.isArray(options.workers) ? options.workers : queueDefinitions,
      );
    }
    if (options.relay !== false) {
      harness.relay = startOutboxRelay(harness.deps, {
        pollMs: 100,
        ...(Array.isArray(options.workers) ? { definitions: options.workers } : {}),
        ...(typeof options.relay === 'object' ? options.relay : {}),
        businessIds: harness.businessIds,
      });
    }
  });
  afterAll(async () => {
    await harness.relay?.close();
    await harness.runtime?.close(2_000);
    await closeDeps(harness.deps);
  });
  return harness;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
