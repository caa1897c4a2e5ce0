import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';

/**
 * A Redis connection for BullMQ workers and queues: `maxRetriesPerRequest: null` so blocking
 * commands wait through a Redis restart instead of failing the worker. Redis for BullMQ must
 * run with `maxmemory-policy noeviction` (see docker-compose.yml): evicted keys lose jobs.
 */
export function createQueueConnection(config: Config, options: RedisOptions = {}): Redis {
  const redis = new Redis(config.redis.url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 500, 5_000),
    ...options,
  });
  // Connection trouble is reported by the Queue/Worker listeners; an unhandled 'error'
  // event on the raw client would crash the process.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * A producer connection (the outbox relay, API-side queue reads): commands fail at once
 * while Redis is down instead of queueing in memory, so the caller can roll back and retry
 * later. Reconnects every ≤ 2 s, so work resumes within seconds of Redis returning.
 */
export function createProducerConnection(config: Config): Redis {
  return createQueueConnection(config, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * True for "Redis is not reachable" errors: each client repeats them on every reconnect
 * attempt, while the outage itself is reported once (deps' Redis connection, `createRedis`).
 */
export function isRedisConnectionError(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
  return (
    typeof message === 'string' &&
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed|connect ETIMEDOUT/.test(message)
  );
}

export const queuePrefix = (config: Config) => `${config.redis.prefix}:bull`;
