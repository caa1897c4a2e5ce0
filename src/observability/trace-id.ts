import { isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * The current trace id, for log lines (pino mixin) and problem bodies; undefined when no
 * trace is active (tracing off, or work outside any request or job).
 */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
