import { flushObservability } from '../observability/flush.js';
import type { Logger } from './logger.js';

/**
 * Runs `shutdown` once on SIGTERM or SIGINT, then exits 0 (1 if it failed). A second
 * signal while shutting down exits at once.
 */
export function onShutdownSignal(
  logger: Logger,
  shutdown: (signal: string) => Promise<void>,
): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    started = true;
    logger.info({ signal }, 'shutting down');
    // Spans and error events still buffered leave before the process does.
    shutdown(signal)
      .finally(flushObservability)
      .then(
        () => {
          logger.info('shutdown complete');
          logger.flush();
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          logger.flush();
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', handle);
  process.once('SIGINT', handle);
}

/** Resolves after `ms` milliseconds; the timer does not keep the process alive. */
export const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });
