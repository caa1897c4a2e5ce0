import type { Middleware } from 'koa';
import pLimit from 'p-limit';
import { AppError } from '../../lib/errors.js';
import type { AppContextExtensions, AppState } from '../context.js';

export interface ConcurrencyLimit {
  /** Requests of the route handled at once by this process. */
  max: number;
  /** Requests allowed to wait for a turn; beyond that the answer is 503, retry later. */
  queue: number;
  /**
   * How long a request may wait for its turn before it is answered 503 (default 20 s):
   * well inside the server's requestTimeout, so a waiting client gets a problem document
   * it can retry on rather than Node's bare 408.
   */
  maxWaitMs?: number;
}

const busy = () =>
  new AppError(
    'SERVICE_UNAVAILABLE',
    'Too many of these requests are being processed; retry shortly',
    {
      retryable: true,
      headers: { 'Retry-After': '1' },
    },
  );

/**
 * Bounds how many requests of one expensive route (a 5 MB /sales/sync batch parses into tens
 * of megabytes) run at once in this process, so memory stays bounded however many devices
 * sync together. It runs before the body is read: a waiting request holds only its socket.
 */
export function concurrencyLimit(
  limit: ConcurrencyLimit,
): Middleware<AppState, AppContextExtensions> {
  const run = pLimit(limit.max);
  const maxWaitMs = limit.maxWaitMs ?? 20_000;
  return async (ctx, next) => {
    if (run.pendingCount >= limit.queue) throw busy();
    let gaveUp = false;
    let finish = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const turn = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        gaveUp = true;
        resolve(false);
      }, maxWaitMs);
      void run(async () => {
        // Its turn came after it was answered 503: pass the slot on at once.
        if (gaveUp) return;
        clearTimeout(timer);
        resolve(true);
        await finished;
      });
    });
    if (!(await turn)) throw busy();
    try {
      await next();
    } finally {
      finish();
    }
  };
}
