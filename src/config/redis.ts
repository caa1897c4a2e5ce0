import { z } from 'zod';
import { defineArea, integer } from './area.js';

/** Redis: BullMQ queues, rate limits and shared caches, under one key prefix. */
export const redisArea = defineArea({
  schema: z.object({
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,40}$/)
      .default('bapi'),
    // Catalog pages in Redis (modules/catalog/catalog-cache.ts); 0 turns the cache off.
    // Versioned, so never stale after a write: the TTL only bounds memory.
    CATALOG_CACHE_TTL_SECONDS: integer(0, 86_400).default(60),
  }),
  build: (env) => ({
    redis: {
      url: env.REDIS_URL,
      prefix: env.REDIS_PREFIX,
      catalogCacheTtlSeconds: env.CATALOG_CACHE_TTL_SECONDS,
    },
  }),
});
