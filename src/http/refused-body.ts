import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import { AppError } from '../lib/errors.js';
import type { AppContextExtensions, AppState } from './context.js';

/**
 * At most this much of a body the API did not read (a refused upload, an over-limit sync
 * batch) is read and thrown away before the answer goes out. Closing a socket with unread
 * bytes makes the kernel send a reset, and a client still sending (fetch streaming a 6 MB
 * image) then sees EPIPE/ECONNRESET instead of the 413: an offline queue would retry a
 * permanent error forever. Above this the connection is cut, the answer may be lost.
 */
export const REFUSED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;

const CONTINUE = Symbol('expectContinue');
type ContinuableRequest = IncomingMessage & {
  [CONTINUE]?: { sent: boolean; send: () => void };
};

/**
 * For the server's 'checkContinue' event: the `100 Continue` is sent only once a route
 * decides to read the body (sendContinue), so a body refused up front (too large for the
 * route by its Content-Length, or an unauthenticated caller) is answered without the client
 * ever sending it (RFC 9110 §10.1.1).
 */
export function deferContinue(req: IncomingMessage, res: ServerResponse): void {
  const marker = {
    sent: false,
    send: () => {
      if (marker.sent || res.headersSent) return;
      marker.sent = true;
      res.writeContinue();
    },
  };
  (req as ContinuableRequest)[CONTINUE] = marker;
}

/** Tells a client waiting on `Expect: 100-continue` to send the body (no-op otherwise). */
export function sendContinue(req: IncomingMessage): void {
  (req as ContinuableRequest)[CONTINUE]?.send();
}

const hasBody = (req: IncomingMessage) =>
  Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

/** Refuses a declared Content-Length over the route's limit before a byte is read. */
export function refuseDeclaredOversize(req: IncomingMessage, limitBytes: number): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `The body (${declared} bytes) is larger than the ${limitBytes} bytes this route accepts`,
    );
  }
}

/**
 * Outermost: when an answer is ready but the request body was not read to its end (refused
 * before or while reading), discard what the client still sends — up to
 * REFUSED_BODY_DRAIN_BYTES — and answer with `Connection: close` (as every 413). The socket then closes
 * with nothing unread (no reset), and a keep-alive connection is never left holding a
 * paused half-read body (which wedged the next request on it).
 */
export function answerRefusedBodies(): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    await next();
    const req = ctx.req as ContinuableRequest;
    if (!hasBody(req) || ctx.res.headersSent || ctx.respond === false) return;
    // A client sending too much is asked to reconnect, even when its body happened to be read.
    if (ctx.status === 413 || !req.readableEnded) ctx.set('Connection', 'close');
    if (req.readableEnded) return;
    // The client was never told to send the body (or is gone): there is nothing to drain.
    if (req.destroyed || req[CONTINUE]?.sent === false) return;
    await discard(req, REFUSED_BODY_DRAIN_BYTES);
  };
}

function discard(req: IncomingMessage, maxBytes: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let seen = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', done);
      req.off('close', done);
      req.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) {
        req.pause();
        done();
      }
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    // A body parser that stopped at its limit left the stream unpiped and paused.
    req.unpipe();
    req.resume();
  });
}
