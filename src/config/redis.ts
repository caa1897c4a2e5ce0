import { z } from 'zod';
import { defineArea } from './area.js';

/** Redis: BullMQ queues, rate limits and shared caches, under one key prefix. */
export const redisArea = defineArea({
  schema: z.object({
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,40}$/)
      .default('bapi'),
  }),
  build: (env) => ({ redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX } }),
});
