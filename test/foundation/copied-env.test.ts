import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// A newcomer's first step, as a real process: `cp .env.example .env`, then start from there.
// The child has no NODE_ENV, like `pnpm dev`, so it loads the .env in its folder.

describe('a copied .env.example, in a real process', () => {
  it('loads: `cp .env.example .env` then start a process there no longer exits 78', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'bapi-env-'));
    try {
      await copyFile('.env.example', path.join(folder, '.env'));
      const script = `import { loadConfigOrExit } from ${JSON.stringify(pathToFileURL(path.resolve('src/config.ts')).href)};
const c = loadConfigOrExit();
console.log(JSON.stringify({ env: c.env, logLevel: c.logLevel, migrate: c.database.migrateOnStart, port: c.port }));`;
      const { code, stdout, stderr } = await runNode(
        ['--import', TSX, '--input-type=module', '-e', script],
        folder,
      );
      expect(stderr).not.toContain('Invalid configuration');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({
        env: 'development',
        logLevel: 'debug',
        migrate: true,
        port: 3000,
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

// Resolved here: the child runs in a folder without node_modules.
const TSX = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;

function runNode(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No NODE_ENV: the child behaves as `pnpm dev` does and reads the .env in its folder.
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
