import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { runBackfills } from './backfills.js';
import { createDb } from './client.js';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Any constant works; it only has to be the same in every process that migrates. */
const MIGRATION_LOCK_KEY = 727_001;

/** Applies the committed migrations, then the batched data backfills, holding an advisory lock so replicas never race. */
export async function runMigrations(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migrate(createDb(pool), { migrationsFolder: MIGRATIONS_FOLDER });
      await runBackfills(client);
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

/** Number of migrations committed in drizzle/ (read once). */
export function expectedMigrationCount(): number {
  const journal = JSON.parse(
    readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as { entries: unknown[] };
  return journal.entries.length;
}

/** True when every committed migration has been applied to this database. */
export async function migrationsAreCurrent(pool: pg.Pool, expected: number): Promise<boolean> {
  const db = createDb(pool);
  try {
    const result = await db.execute<{ count: number }>(
      sql`select count(*)::int as count from drizzle.__drizzle_migrations`,
    );
    return (result.rows[0]?.count ?? 0) >= expected;
  } catch {
    return false;
  }
}

// `pnpm db:migrate`: apply migrations to DATABASE_URL (or the embedded database) and exit.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { loadConfigOrExit } = await import('../config.js');
  const { createPool } = await import('./client.js');
  const { resolveDatabaseUrl } = await import('./embedded.js');
  const config = loadConfigOrExit();
  const database = await resolveDatabaseUrl(config);
  const pool = createPool({
    url: database.url,
    poolMax: 2,
    applicationName: 'backend-api-migrate',
  });
  await runMigrations(pool);
  process.stdout.write(`Migrations applied (${expectedMigrationCount()} in drizzle/).\n`);
  await pool.end();
  await database.stop();
}
