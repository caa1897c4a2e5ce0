import { delay } from './shutdown.js';

export interface RetryWhileOptions {
  /** Give up (rethrow the last error) once this much time has passed. */
  deadlineMs: number;
  /** First pause between tries; doubles up to `maxDelayMs`. */
  delayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `operation` again while it fails with an error `isTransient` accepts, until the
 * deadline; any other error, or the last one at the deadline, is thrown.
 */
export async function retryWhile<T>(
  operation: () => Promise<T>,
  isTransient: (error: unknown) => boolean,
  options: RetryWhileOptions,
): Promise<T> {
  const deadline = Date.now() + options.deadlineMs;
  let pause = options.delayMs ?? 250;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || Date.now() + pause > deadline) throw error;
      await delay(pause);
      pause = Math.min(pause * 2, options.maxDelayMs ?? 2_000);
    }
  }
}
