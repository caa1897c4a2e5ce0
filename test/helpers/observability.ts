import { spawn } from 'node:child_process';
import { eventually } from './jobs.js';
import { freePort, waitForHttp, type SpawnedProcess } from './process.js';

/**
 * An entry point run as the scripts run it: `node --import <tsx> --import
 * ./src/otel-register.ts <entry>`, so the SDK starts before the app's modules load.
 */
export function spawnRegistered(entry: string, env: Record<string, string | undefined>) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './src/otel-register.ts', entry],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => output, exited } satisfies SpawnedProcess;
}

/** The API with the test-only routes (a throwing one among them), on a free port. */
export async function startTracedApi(env: Record<string, string | undefined>) {
  const port = await freePort();
  const proc = spawnRegistered('test/fixtures/api-process.ts', {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForHttp(`${base}/health`, 240_000),
    proc.exited.then((code) => {
      throw new Error(`the API exited (${code}) before answering:\n${proc.output()}`);
    }),
  ]);
  return { base, proc };
}

export async function startTracedWorker(env: Record<string, string | undefined>) {
  const proc = spawnRegistered('src/worker.ts', { ...env, LOG_LEVEL: 'info' });
  await eventually(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`worker exited:\n${proc.output()}`);
      return proc.output().includes('worker started');
    },
    240_000, // tsx compiles the worker on start: minutes on a loaded shared box
    'the worker to start',
  );
  return proc;
}

/** The JSON log lines a process wrote to stdout. */
export function logLines(proc: SpawnedProcess): Record<string, unknown>[] {
  return proc
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
