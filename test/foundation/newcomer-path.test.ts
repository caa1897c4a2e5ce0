import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { freePort, waitForHttp } from '../helpers/process.js';

// A newcomer's first hour, as real processes: a fresh copy of the tracked files,
// `cp .env.example .env`, `pnpm dev` (embedded PostgreSQL, the worker, the Daraja simulator),
// register, invite a cashier, and follow the link in the email the worker wrote to a page
// that completes the invitation. Only the ports and the Redis prefix are set from outside,
// so this run cannot collide with another checkout on the machine.

const repo = path.resolve(import.meta.dirname, '../..');
let folder = '';
let dev: ChildProcess | undefined;
let output = '';

afterAll(async () => {
  if (dev?.pid && dev.exitCode === null && dev.signalCode === null) {
    const exited = new Promise((resolve) => dev!.once('exit', resolve));
    process.kill(-dev.pid, 'SIGINT');
    await exited;
  }
  if (folder) await rm(folder, { recursive: true, force: true });
});

async function copyTrackedFiles(to: string): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file.length > 0);
  for (const file of files) {
    await mkdir(path.join(to, path.dirname(file)), { recursive: true });
    // A file deleted in the work tree but still tracked is simply not part of the copy.
    await copyFile(path.join(repo, file), path.join(to, file)).catch(() => undefined);
  }
  // The install step (`pnpm install`) is the README's first command; reuse its result.
  await symlink(path.join(repo, 'node_modules'), path.join(to, 'node_modules'), 'dir');
}

/** The .eml the development mailer wrote for `to`, decoded from quoted-printable. */
async function mailFor(mailDir: string, to: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const names = await readdir(mailDir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.eml'))) {
      const raw = await readFile(path.join(mailDir, name), 'utf8');
      if (!raw.includes(to)) continue;
      return raw
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no mail to ${to} in ${mailDir}; pnpm dev said:\n${output}`);
}

const json = (body: unknown, token?: string) => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  },
  body: JSON.stringify(body),
});

describe('the newcomer path', () => {
  it('fresh copy → cp .env.example .env → pnpm dev → register → invite link opens and completes', async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'bapi-newcomer-'));
    // mkdtemp makes the folder 0700; a clone is 0755. (Run as root, the embedded PostgreSQL
    // runs as the `postgres` user, which must reach .data/postgres through its parents.)
    await chmod(folder, 0o755);
    await copyTrackedFiles(folder);
    await copyFile(path.join(folder, '.env.example'), path.join(folder, '.env'));

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    dev = spawn('pnpm', ['dev'], {
      cwd: folder,
      detached: true,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        EMBEDDED_PG_PORT: String(await freePort()),
        MPESA_SIMULATOR_PORT: String(await freePort()),
        REDIS_PREFIX: `${inject('redisPrefix')}_newcomer`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForHttp(`${base}/ready`, 180_000).catch((error: unknown) => {
      throw new Error(`pnpm dev did not get ready (${String(error)}):\n${output}`);
    });

    const ownerEmail = `owner-${newId()}@example.test`;
    const registered = await fetch(
      `${base}/auth/register`,
      json({
        businessName: 'Duka la Kwanza',
        name: 'Wanjiku Kamau',
        email: ownerEmail,
        password: 'a-long-enough-password',
      }),
    );
    expect(registered.status, await registered.clone().text()).toBe(201);
    const { accessToken } = (await registered.json()) as { accessToken: string };

    const cashierEmail = `cashier-${newId()}@example.test`;
    const invited = await fetch(
      `${base}/invites`,
      json({ email: cashierEmail, role: 'cashier' }, accessToken),
    );
    expect(invited.status, await invited.clone().text()).toBe(201);

    // .env.example leaves SMTP_URL empty: development writes each message under MAIL_DIR.
    const mail = await mailFor(path.join(folder, '.data/mail'), cashierEmail);
    const link = /(http:\/\/[^\s"<>]+\/invite\/accept\?token=[A-Za-z0-9_-]+)/.exec(mail)?.[1];
    expect(link, mail).toBeDefined();
    expect(link!.startsWith(`${base}/invite/accept?token=`)).toBe(true);

    const page = await fetch(link!, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    expect(action).toBeDefined();
    const token = new URL(link!).searchParams.get('token')!;

    const accepted = await fetch(
      new URL(action!, link),
      json({ token, name: 'Achieng Otieno', password: 'another-long-password' }),
    );
    expect(accepted.status, await accepted.clone().text()).toBe(201);
    const login = await fetch(
      `${base}/auth/login`,
      json({ email: cashierEmail, password: 'another-long-password' }),
    );
    expect(login.status).toBe(200);
  }, 300_000);
});
