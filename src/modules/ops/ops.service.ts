import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { AppDeps } from '../../deps.js';
import { expectedMigrationCount, migrationsAreCurrent } from '../../db/migrate.js';
import type { ReadyResponse } from './ops.schemas.js';
import { withTimeout } from '../../lib/timeout.js';

const CHECK_TIMEOUT_MS = 1_500;

let expectedMigrations: number | undefined;

/** Readiness: PostgreSQL answers, every committed migration is applied, Redis answers. */
export async function checkReadiness(deps: AppDeps): Promise<ReadyResponse> {
  expectedMigrations ??= expectedMigrationCount();
  const expected = expectedMigrations;
  const [database, migrations, redis] = await Promise.all([
    withTimeout(deps.db.execute(sql`select 1`), CHECK_TIMEOUT_MS, 'check timed out').then(
      () => 'ok' as const,
      () => 'down' as const,
    ),
    withTimeout(
      migrationsAreCurrent(deps.pool, expected),
      CHECK_TIMEOUT_MS,
      'check timed out',
    ).then(
      (current) => (current ? ('ok' as const) : ('pending' as const)),
      () => 'down' as const,
    ),
    withTimeout(pingRedis(deps.redis), CHECK_TIMEOUT_MS, 'check timed out').then(
      () => 'ok' as const,
      () => 'down' as const,
    ),
  ]);
  const checks = { database, migrations, redis };
  if (deps.lifecycle.shuttingDown) return { status: 'shutting_down', checks };
  const ready = Object.values(checks).every((state) => state === 'ok');
  return { status: ready ? 'ready' : 'not_ready', checks };
}

/** The API's Redis client has no offline queue: wait for a connection in progress first. */
async function pingRedis(redis: Redis): Promise<void> {
  if (redis.status === 'connecting' || redis.status === 'connect') {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('error', reject);
    });
  }
  await redis.ping();
}
