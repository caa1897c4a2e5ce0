/**
 * What must leave the process before it exits (buffered spans, queued error events). The
 * SDKs register here when src/otel-register.ts starts them; the app only calls
 * `flushObservability()` on graceful shutdown, never importing the SDKs itself.
 */
const flushers: (() => Promise<void>)[] = [];

export function onObservabilityFlush(flush: () => Promise<void>): void {
  flushers.push(flush);
}

/** Flushes every started SDK; never throws (a collector being down must not fail shutdown). */
export async function flushObservability(): Promise<void> {
  await Promise.allSettled(flushers.map((flush) => flush()));
}
