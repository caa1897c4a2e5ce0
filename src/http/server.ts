import http from 'node:http';
import type { App } from '../app.js';
import type { Lifecycle } from '../deps.js';
import { delay } from '../lib/shutdown.js';
import { answerClientError } from './client-errors.js';
import { deferContinue } from './refused-body.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  lifecycle: Lifecycle;
  /** A client must send its whole request head within this (default 20 s). */
  headersTimeoutMs?: number;
  /** …and its whole request within this (default 60 s). */
  requestTimeoutMs?: number;
}

export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

export interface RunningServer {
  server: http.Server;
  port: number;
  /** Stops accepting connections and waits (up to `timeoutMs`) for in-flight requests. */
  drain: (timeoutMs: number) => Promise<{ abandoned: number }>;
}

/** Listens with timeouts set against slow clients, and tracks in-flight requests for draining. */
export async function listen(app: App, options: HttpServerOptions): Promise<RunningServer> {
  const handle = app.callback();
  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = http.createServer(
    {
      // Node enforces the two timeouts below only when it sweeps its connections, every
      // 30 s by default: a slowloris client trickling headers then held its socket for up
      // to 50 s, not 20. Sweep every second (or sooner for shorter timeouts).
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(headersTimeout / 4)),
    },
    (req, res) => {
      track(handle(req, res), res);
    },
  );
  // `Expect: 100-continue`: the route sends `100 Continue` once it means to read the body
  // (refused-body.ts), so a too-large body is refused before the client sends it.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    deferContinue(req, res);
    server.emit('request', req, res);
  });
  server.on('clientError', answerClientError);
  // Slowloris guards: headers within 20 s, the whole request within 60 s.
  server.headersTimeout = headersTimeout;
  server.requestTimeout = requestTimeout;
  // Longer than common load balancers' idle timeout, so they close first.
  server.keepAliveTimeout = 65_000;

  // A request is in flight until its handler has finished AND its response is closed: a
  // client that hangs up mid-request closes the response while the handler still runs (a
  // sale waiting on PostgreSQL), and a streamed body outlives its handler. Counting closes
  // alone let a drain end, and the pools close, under a running sale.
  let inFlight = 0;
  function track(handled: Promise<void>, res: http.ServerResponse) {
    inFlight += 1;
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    void Promise.allSettled([handled, closed]).then(() => {
      inFlight -= 1;
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  const drain = async (timeoutMs: number) => {
    options.lifecycle.shuttingDown = true;
    // No new connections from here on. Requests still arriving on open keep-alive
    // connections are served (so /ready can answer 503) with `Connection: close`.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (inFlight > 0 && Date.now() < deadline) await delay(25);
    const abandoned = inFlight;
    server.closeIdleConnections();
    server.closeAllConnections();
    await closed;
    return { abandoned };
  };
  return { server, port, drain };
}
