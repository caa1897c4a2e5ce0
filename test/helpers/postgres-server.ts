import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './process.js';

const run = promisify(execFile);
const BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  /** Admin URL (database `postgres`, trust auth). */
  adminUrl: string;
  port: number;
  /** `pg_ctl stop -m immediate`: every backend dies at once, as in a crash. */
  stop: () => Promise<void>;
  /** Starts it again on the same port and data (crash recovery included). */
  start: () => Promise<void>;
  /** Stops it (if running) and deletes its data. */
  destroy: () => Promise<void>;
}

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl under a temp folder, on a free
 * port), so a test can take the whole server down without touching the shared one. PostgreSQL
 * refuses to run as root; as root it runs as the `postgres` OS user (as src/db/embedded.ts does).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'bapi-pg-'));
  const dataDir = path.join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    await chown(root, Number(stdout.trim()), Number(group.trim()));
  }
  const pgTool = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', path.join(BIN, tool), ...args])
      : run(path.join(BIN, tool), args);

  await pgTool('initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  // fsync off: only processes crash here, never the machine, so the page cache keeps the WAL.
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${root} -c fsync=off`;
  let running = false;
  const server: PrivatePostgres = {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: async () => {
      await pgTool('pg_ctl', [
        '-D',
        dataDir,
        '-o',
        options,
        '-l',
        path.join(root, 'log'),
        '-w',
        '-t',
        '60',
        'start',
      ]);
      running = true;
    },
    stop: async () => {
      await pgTool('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    destroy: async () => {
      if (running) await server.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Creates `name` on the server at `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
