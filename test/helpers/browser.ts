import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (apt package `chromium`; .ci/run installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The till page's sources (bundled on the fly from the SDK's own). */
const PAGE_DIR = path.join(import.meta.dirname, '../sdk/browser/page');

async function bundle(entry: string, format: 'iife' | 'esm'): Promise<string> {
  const result = await build({
    entryPoints: [path.join(PAGE_DIR, entry)],
    bundle: true,
    format,
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

const HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Till</title></head>
<body><h1>Till</h1><script src="/till.js"></script></body></html>`;

export interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** The till page (bundled from the SDK's sources) and its service worker, served on localhost. */
export async function servePage(): Promise<PageServer> {
  const [script, worker] = await Promise.all([
    bundle('till-page.ts', 'iife'),
    bundle('sw.ts', 'iife'),
  ]);
  const files: Record<string, [string, string]> = {
    '/': ['text/html; charset=utf-8', HTML],
    '/till.js': ['text/javascript', script],
    '/sw.js': ['text/javascript', worker],
  };
  const server = http.createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://localhost').pathname];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fresh (or the given) user-data-dir: a persistent context survives close and reopen. */
export async function userDataDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'till-chromium-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function launch(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}
