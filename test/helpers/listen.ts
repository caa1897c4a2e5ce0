import { afterAll } from 'vitest';
import type { App } from '../../src/app.js';
import { listen, type HttpServerOptions, type RunningServer } from '../../src/http/server.js';

/**
 * The app on a real port through the production listen() (its timeouts and connection
 * handling included), for clients that must speak real HTTP: Node's fetch, raw sockets.
 */
export async function listenForTest(
  app: App,
  options: Partial<Omit<HttpServerOptions, 'lifecycle'>> = {},
): Promise<RunningServer & { baseUrl: string }> {
  const running = await listen(app, {
    host: '127.0.0.1',
    port: 0,
    lifecycle: app.context.deps.lifecycle,
    ...options,
  });
  afterAll(async () => {
    await running.drain(0);
  });
  return { ...running, baseUrl: `http://127.0.0.1:${running.port}` };
}
