import { ProblemError } from './errors.js';

export interface IdempotentOptions {
  /** Reuse a key (e.g. a sale's clientRequestId stored in an offline queue); default: a new UUID. */
  key?: string;
  /** Attempts in all, the first included (default 6). */
  maxAttempts?: number;
  /** First backoff in ms (default 500), doubled each attempt with jitter, capped by maxDelayMs (default 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** For tests: how to wait. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `send(key)` with one idempotency key across every retry, so a request whose answer
 * was lost is never applied twice. Retries network failures and problems marked
 * `retryable` (honouring Retry-After); any other problem is thrown at once.
 */
export async function idempotent<T>(
  send: (key: string) => Promise<T>,
  options: IdempotentOptions = {},
): Promise<T> {
  const key = options.key ?? crypto.randomUUID();
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;

  for (let attempt = 1; ; attempt++) {
    try {
      return await send(key);
    } catch (error) {
      const retryable =
        error instanceof ProblemError ? error.retryable : error instanceof TypeError; // fetch: network failure
      if (!retryable || attempt >= maxAttempts) throw error;
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const retryAfterMs =
        error instanceof ProblemError && error.retryAfterSeconds
          ? error.retryAfterSeconds * 1000
          : 0;
      await sleep(Math.max(jittered, retryAfterMs));
    }
  }
}
