import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';

/**
 * A Redis connection for BullMQ workers and queues: `maxRetriesPerRequest: null` so blocking
 * commands wait through a Redis restart instead of failing the worker. Redis for BullMQ must
 * run with `maxmemory-policy noeviction` (see docker-compose.yml): evicted keys lose jobs.
 */
export function createQueueConnection(config: Config, options: RedisOptions = {}): Redis {
  return new Redis(config.redis.url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
    ...options,
  });
}

export const queuePrefix = (config: Config) => `${config.redis.prefix}:bull`;
