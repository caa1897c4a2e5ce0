import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/app.js';
import { freePort, spawnTs, waitForHttp } from '../helpers/process.js';

/** GET over one specific keep-alive agent, so a request can reuse an open connection. */
function get(url: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('the API process', () => {
  it('exits non-zero naming each bad variable when the configuration is invalid', async () => {
    const proc = spawnTs('src/server.ts', {
      NODE_ENV: 'production',
      PORT: 'not-a-port',
      JWT_SECRET: 'weak',
      REDIS_URL: 'nonsense',
    });
    const code = await proc.exited;
    expect(code).not.toBe(0);
    for (const name of ['PORT', 'JWT_SECRET', 'REDIS_URL', 'DATABASE_URL'])
      expect(proc.output()).toContain(name);
  });

  it('on SIGTERM finishes the in-flight request, answers /ready 503 meanwhile, refuses new connections and exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = spawnTs('test/fixtures/api-process.ts', {
      ...testEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    try {
      await waitForHttp(`${base}/health`);
      const slowAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const slow = get(`${base}/__test/slow?ms=2000`, slowAgent);
      // The probe's connection is busy when SIGTERM arrives, so it stays open afterwards.
      const probeBusy = get(`${base}/__test/slow?ms=700`, probeAgent);
      await new Promise((resolve) => setTimeout(resolve, 200));
      proc.child.kill('SIGTERM');
      expect((await probeBusy).status).toBe(200);

      const ready = await get(`${base}/ready`, probeAgent);
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body).status).toBe('shutting_down');
      await expect(fetch(`${base}/health`)).rejects.toThrow(); // no new connections

      const finished = await slow;
      expect(finished.status).toBe(200);
      expect(JSON.parse(finished.body)).toEqual({ done: true });
      expect(await proc.exited).toBe(0);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});

describe('the worker process', () => {
  it('starts its BullMQ workers and exits 0 on SIGTERM', async () => {
    const proc = spawnTs('src/worker.ts', { ...testEnv(), LOG_LEVEL: 'info' });
    try {
      const deadline = Date.now() + 30_000;
      while (!proc.output().includes('worker started') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(proc.output()).toContain('worker started');
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('shutdown complete');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});

describe('the embedded PostgreSQL default', () => {
  it('starts a real PostgreSQL when DATABASE_URL is unset, migrates it, and keeps data across restarts', async () => {
    const dataRoot = await mkdtemp(path.join(os.tmpdir(), 'bapi-embedded-'));
    const pgPort = await freePort();
    const env = {
      ...testEnv(),
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: undefined,
      EMBEDDED_PG_DIR: path.join(dataRoot, 'postgres'),
      EMBEDDED_PG_PORT: String(pgPort),
      HOST: '127.0.0.1',
    };
    const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${pgPort}/backend_api`;
    try {
      for (const round of [1, 2]) {
        const port = await freePort();
        const proc = spawnTs('src/server.ts', { ...env, PORT: String(port) });
        try {
          await waitForHttp(`http://127.0.0.1:${port}/health`, 60_000);
          const ready = await fetch(`http://127.0.0.1:${port}/ready`);
          expect(await ready.json()).toMatchObject({
            checks: { database: 'ok', migrations: 'ok' },
          });
          const client = new pg.Client({ connectionString: databaseUrl });
          await client.connect();
          if (round === 1) {
            await client.query(
              `insert into businesses (id, name, current_period_end) values ('01900000-0000-7000-8000-0000000000aa', 'Survivor', now())`,
            );
          } else {
            const found = await client.query(
              `select name from businesses where id = '01900000-0000-7000-8000-0000000000aa'`,
            );
            expect(found.rows).toEqual([{ name: 'Survivor' }]);
          }
          await client.end();
        } finally {
          proc.child.kill('SIGTERM');
          expect(await proc.exited).toBe(0);
        }
      }
    } finally {
      await rm(dataRoot, { recursive: true, force: true });
    }
  }, 120_000);
});
