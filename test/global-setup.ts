import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '../src/db/migrate.js';
import { createPool } from '../src/db/client.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
  }
}

/**
 * One fresh database per test run, migrated once from the committed migrations, dropped at
 * the end. Tests isolate by creating their own business, never by truncating. The admin
 * URL defaults to this machine's PostgreSQL; override with TEST_DATABASE_ADMIN_URL.
 */
export default async function setup(project: TestProject) {
  const adminUrl =
    process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `bapi_test_${suffix}`;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${databaseName}`);
  await admin.end();

  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${databaseName}`;
  const pool = createPool({ url: databaseUrl.toString(), poolMax: 2 });
  await runMigrations(pool);
  await pool.end();

  project.provide('databaseUrl', databaseUrl.toString());
  project.provide('redisUrl', redisUrl);
  // Queues and rate-limit keys are namespaced per run, so parallel runs never share jobs.
  project.provide('redisPrefix', `test_${suffix}`);

  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${databaseName} with (force)`);
    await cleanup.end();
    await deleteRedisKeys(redisUrl, `test_${suffix}*`);
  };
}

async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis down at the end of a run: nothing to clean that matters.
  } finally {
    redis.disconnect();
  }
}
