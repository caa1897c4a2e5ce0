import { once } from 'node:events';
import type { Redis } from 'ioredis';

/**
 * Redis's `maxmemory-policy`, read from INFO (allowed where CONFIG is not, as on managed
 * Redis); undefined when Redis does not answer within `timeoutMs`.
 */
export async function redisEvictionPolicy(
  redis: Redis,
  timeoutMs = 5_000,
): Promise<string | undefined> {
  if (redis.status !== 'ready') {
    const timer = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([once(redis, 'ready'), timer]);
  }
  if (redis.status !== 'ready') return undefined;
  const info = await redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}
