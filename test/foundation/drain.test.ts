import http from 'node:http';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { listen } from '../../src/http/server.js';
import { delay } from '../../src/lib/shutdown.js';

// src/http/server.ts drain(): the shutdown waits for handlers, not for sockets. A client that
// hangs up mid-request must not let the drain end (and the pools close) under its handler.
describe('drain', () => {
  it('waits for a handler whose client hung up', async () => {
    let arrive = () => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    let finished = false;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = new Koa();
    app.use(async (ctx) => {
      arrive();
      await gate; // e.g. a sale waiting on PostgreSQL
      finished = true;
      ctx.body = 'done';
    });
    const running = await listen(app as unknown as App, {
      host: '127.0.0.1',
      port: 0,
      lifecycle: { shuttingDown: false },
    });

    const request = http.request({ host: '127.0.0.1', port: running.port, path: '/' });
    request.on('error', () => undefined);
    const serverSawClose = new Promise<void>((resolve) =>
      running.server.once('connection', (socket) => socket.once('close', () => resolve())),
    );
    request.end();
    await arrived;
    request.destroy();
    await serverSawClose;

    let drained = false;
    const draining = running.drain(10_000).then((result) => {
      drained = true;
      return result;
    });
    await delay(300);
    expect(drained, 'the drain ended while the handler was still running').toBe(false);
    release();
    expect(await draining).toEqual({ abandoned: 0 });
    expect(finished).toBe(true);
  });
});
