import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './process.js';

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILL: Redis dies as in a crash, losing everything in memory. */
  kill: () => Promise<void>;
  start: () => Promise<void>;
  /** Kills it and deletes its data folder (persistent servers). */
  close: () => Promise<void>;
}

export interface PrivateRedisOptions {
  /**
   * AOF with `appendfsync always`, as production should run it: a SIGKILL then loses no
   * acknowledged write, so queued jobs survive a crash and restart.
   */
  persistent?: boolean;
  /** Redis's eviction policy (default noeviction, what the queues need). */
  maxmemoryPolicy?: string;
}

/**
 * A redis-server of the test's own on a free port, so a test can kill and restart it
 * without disturbing the shared one.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = options.persistent ? await mkdtemp(path.join(os.tmpdir(), 'bapi-redis-')) : undefined;
  const persistence = dir
    ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;
  const server: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      if (!child) return;
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
    start: async () => {
      child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          ...persistence,
          '--maxmemory-policy',
          options.maxmemoryPolicy ?? 'noeviction',
        ],
        { stdio: 'ignore' },
      );
      const probe = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined);
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await probe.connect();
          await probe.ping();
          probe.disconnect();
          return;
        } catch (error) {
          probe.disconnect();
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    close: async () => {
      await server.kill();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
