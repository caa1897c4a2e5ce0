import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, waitForHttp } from '../helpers/process.js';

// The developer's day, as real processes: `pnpm dev` on the embedded PostgreSQL, then
// `pnpm db:seed` and `pnpm jobs:dead` beside it; a second checkout's `pnpm dev` on the same
// machine (same PostgreSQL and simulator ports); and Ctrl-C (SIGINT to the whole process
// group, as a terminal sends it) ending each cleanly.

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function pnpm(args: string[], env: Record<string, string>): Run {
  const child = spawn('pnpm', args, {
    // Its own process group, so a signal can reach every process in it, like Ctrl-C.
    detached: true,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => output, exited };
}

async function waitForOutput(run: Run, text: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!run.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no "${text}" in:\n${run.output()}`);
    if (run.child.exitCode !== null) throw new Error(`exited early:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const interrupt = (run: Run) => process.kill(-run.child.pid!, 'SIGINT');

const folders: string[] = [];
const started: Run[] = [];
afterAll(async () => {
  for (const run of started) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      process.kill(-run.child.pid!, 'SIGTERM');
      await run.exited;
    }
  }
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function checkout(pgPort: number, simulatorPort: number, oscuPort: number) {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'bapi-dev-'));
  folders.push(folder);
  const apiPort = await freePort();
  return {
    folder,
    apiPort,
    env: {
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      // Empty wins over any developer .env in the repository: embedded database, simulator.
      DATABASE_URL: '',
      MPESA_ENV: '',
      MPESA_CONSUMER_KEY: '',
      MPESA_BASE_URL: '',
      SMTP_URL: '',
      EMBEDDED_PG_DIR: path.join(folder, 'postgres'),
      EMBEDDED_PG_PORT: String(pgPort),
      MPESA_SIMULATOR_PORT: String(simulatorPort),
      ETIMS_BASE_URL: '',
      ETIMS_SIMULATOR_PORT: String(oscuPort),
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: `${inject('redisPrefix')}_dev_${path.basename(folder).slice(-6)}`,
      MAIL_DIR: path.join(folder, 'mail'),
      STORAGE_LOCAL_DIR: path.join(folder, 'uploads'),
    },
  };
}

describe('pnpm dev beside other commands and another checkout', () => {
  it('seed and jobs:dead use the running embedded PostgreSQL; a second checkout starts; Ctrl-C exits 0', async () => {
    const pgPort = await freePort();
    const simulatorPort = await freePort();
    const oscuPort = await freePort();
    const first = await checkout(pgPort, simulatorPort, oscuPort);
    const devA = pnpm(['dev'], first.env);
    started.push(devA);
    await waitForOutput(devA, 'Daraja simulator on');
    await waitForHttp(`http://127.0.0.1:${first.apiPort}/health`, 120_000);

    const seed = pnpm(['db:seed'], first.env);
    expect(await seed.exited, seed.output()).toBe(0);
    expect(seed.output()).toContain(
      `Using the embedded PostgreSQL already running on 127.0.0.1:${pgPort}`,
    );
    expect(seed.output()).toMatch(/Demo shop "Duka la Mfano" created/);

    const dead = pnpm(['jobs:dead', 'list'], first.env);
    expect(await dead.exited, dead.output()).toBe(0);
    expect(dead.output()).toContain('no dead jobs');

    // Another checkout: its own data folder, but the same ports in its configuration.
    const second = await checkout(pgPort, simulatorPort, oscuPort);
    const devB = pnpm(['dev'], second.env);
    started.push(devB);
    await waitForHttp(`http://127.0.0.1:${second.apiPort}/health`, 120_000);
    expect(devB.output()).toContain(`Port ${pgPort} is taken`);
    expect(devB.output()).toContain(
      `using the Daraja simulator already running on http://127.0.0.1:${simulatorPort}`,
    );
    expect(devB.output()).toContain(
      `using the OSCU simulator already running on http://127.0.0.1:${oscuPort}/etims-api`,
    );
    expect((await fetch(`http://127.0.0.1:${second.apiPort}/ready`)).status).toBe(200);

    interrupt(devB);
    expect(await devB.exited, devB.output()).toBe(0);
    expect(devB.output()).not.toContain('ELIFECYCLE');

    interrupt(devA);
    expect(await devA.exited, devA.output()).toBe(0);
    expect(devA.output()).not.toContain('ELIFECYCLE');
    // The first checkout's database stopped with it.
    expect(existsSync(path.join(first.folder, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 300_000);
});
