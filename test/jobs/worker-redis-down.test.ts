import { describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/app.js';
import { freePort, spawnTs } from '../helpers/process.js';

// The README's promise: with Redis down the worker says so in one line (how to start it),
// not a block of lines per queue on every reconnect attempt.

describe('the worker with Redis down', () => {
  it('prints one line about it, however many reconnect attempts pass', async () => {
    const closedPort = await freePort(); // nothing listens there
    const worker = spawnTs('src/worker.ts', {
      ...testEnv(),
      // Development output (pretty, one line per entry), as `pnpm dev` shows it.
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
    });
    try {
      // Started (a busy machine may take a while to compile and boot it)…
      const deadline = Date.now() + 60_000;
      while (!/redis/i.test(worker.output()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // …then long enough for a dozen reconnect attempts (0.5 s, 1 s, … apart).
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    const lines = worker
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '');
    const aboutRedis = lines.filter((line) => /redis/i.test(line));
    expect(aboutRedis, worker.output()).toHaveLength(1);
    expect(aboutRedis[0]).toContain('redis-server');
    expect(aboutRedis[0]).toContain('ECONNREFUSED');
    expect(worker.output()).not.toContain('worker error');
    // No multi-line error blocks either.
    expect(
      lines.filter((line) => /^\s/.test(line)),
      worker.output(),
    ).toEqual([]);
  });
});
