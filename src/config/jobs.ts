import { z } from 'zod';
import { defineArea, integer, trimmedString } from './area.js';

/** Background work: the outbox relay, BullMQ worker locks and the queue dashboard. */
export const jobsArea = defineArea({
  schema: z.object({
    OUTBOX_POLL_MS: integer(10, 60_000).default(5_000),
    OUTBOX_RETENTION_DAYS: integer(1, 365).default(7),
    WORKER_LOCK_DURATION_MS: integer(500, 600_000).default(30_000),
    WORKER_STALLED_INTERVAL_MS: integer(500, 600_000).default(30_000),
    BULL_BOARD_USER: trimmedString.optional(),
    BULL_BOARD_PASSWORD: trimmedString.optional(),
  }),
  build: (env) => ({
    outbox: { pollMs: env.OUTBOX_POLL_MS, retentionDays: env.OUTBOX_RETENTION_DAYS },
    /** BullMQ: how long a worker's job lock lasts, and how often lost locks are looked for. */
    jobs: {
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    },
    bullBoard:
      env.BULL_BOARD_USER !== undefined && env.BULL_BOARD_PASSWORD !== undefined
        ? { user: env.BULL_BOARD_USER, password: env.BULL_BOARD_PASSWORD }
        : undefined,
  }),
});
