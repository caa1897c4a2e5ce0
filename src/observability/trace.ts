import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { RPCType, getRPCMetadata } from '@opentelemetry/core';
import { serializeError } from '../lib/logger.js';

export { currentTraceId } from './trace-id.js';

/**
 * The application's side of tracing, on the OpenTelemetry API only: with no SDK started
 * (OTEL_EXPORTER_OTLP_ENDPOINT unset) every call here meets the API's no-op tracer and
 * costs a property read. The SDK is started by src/otel-register.ts.
 *
 * One trace per business effect: a request's context is saved with the outbox rows it
 * writes (`traceCarrier()`), the relay passes it to BullMQ in the job's telemetry
 * metadata (`startPublish()`), and the worker continues it (`runJobInTrace()`). Anything a
 * job does — PostgreSQL, webhooks, Daraja, SMTP, and any peer added later through undici
 * or `runClientSpan()` — is then a descendant of the request that caused it.
 */

const tracer = trace.getTracer('backend-api');

/** W3C trace context of a moment (`traceparent`, and `tracestate` when present). */
export type TraceCarrier = Record<string, string>;

/** The current context as W3C headers, to be stored with work done later; null when none. */
export function traceCarrier(): TraceCarrier | null {
  if (!trace.getActiveSpan()) return null;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : null;
}

/** `traceCarrier()` as jsonb text for raw SQL inserts into the outbox (null: none). */
export function outboxTraceContext(): string | null {
  const carrier = traceCarrier();
  return carrier ? JSON.stringify(carrier) : null;
}

const contextFrom = (carrier: TraceCarrier | null | undefined): Context =>
  carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;

/** Names the incoming request's server span after its route template (`POST /sales/:id`). */
export function setHttpRoute(route: string): void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type === RPCType.HTTP) metadata.route = route;
}

/**
 * Records an error on the active span without its SQL bound parameters (drizzle spells
 * them into messages: phone numbers, token hashes). Used for errors a handler swallows.
 */
export function recordError(error: unknown, span: Span | undefined = trace.getActiveSpan()): void {
  if (!span) return;
  const scrubbed = serializeError(error) as { type?: string; message?: string; stack?: string };
  span.recordException({
    name: scrubbed.type ?? 'Error',
    message: scrubbed.message ?? '',
    stack: scrubbed.stack,
  });
  span.setStatus({ code: SpanStatusCode.ERROR, message: scrubbed.type });
}

export interface Publish {
  /** Runs `work` (planning the jobs) inside the send span. */
  run: <T>(work: () => Promise<T>) => Promise<T>;
  /** BullMQ job options carrying the send span's context to the worker. */
  jobOptions: { telemetry?: { metadata: string } };
  end: (error?: unknown) => void;
}

const NO_PUBLISH: Publish = { run: (work) => work(), jobOptions: {}, end: () => undefined };

/**
 * The outbox relay's `send <queue>` span for one row, a child of the request that wrote
 * it: the gap before it is the outbox lag, and the jobs it sends continue under it.
 */
export function startPublish(
  carrier: TraceCarrier | null | undefined,
  destination: string,
  messageId: string,
): Publish {
  if (!carrier) return NO_PUBLISH;
  const parent = contextFrom(carrier);
  if (!trace.getSpan(parent)) return NO_PUBLISH;
  const span = tracer.startSpan(
    `send ${destination}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': destination,
        'messaging.message.id': messageId,
      },
    },
    parent,
  );
  const spanContext = trace.setSpan(parent, span);
  const sent: TraceCarrier = {};
  propagation.inject(spanContext, sent);
  return {
    run: (work) => context.with(spanContext, work),
    jobOptions: { telemetry: { metadata: JSON.stringify(sent) } },
    end: (error) => {
      if (error !== undefined) recordError(error, span);
      span.end();
    },
  };
}

/** The smallest view of a BullMQ job this needs (so tests and scripts can pass their own). */
export interface TracedJob {
  id?: string;
  name: string;
  attemptsMade: number;
  opts: { telemetry?: { metadata?: string } };
  data?: unknown;
}

function parseMetadata(metadata: string | undefined): TraceCarrier | null {
  if (!metadata) return null;
  try {
    const parsed: unknown = JSON.parse(metadata);
    return typeof parsed === 'object' && parsed !== null ? (parsed as TraceCarrier) : null;
  } catch {
    return null;
  }
}

/** The trace a job continues (from its saved `traceparent`), for reports made outside it. */
export function jobTraceId(job: TracedJob): string | undefined {
  const traceparent = parseMetadata(job.opts.telemetry?.metadata)?.traceparent;
  return traceparent?.split('-')[1];
}

/**
 * Runs a job's processor in a `process <queue>` consumer span that continues the trace
 * saved in the job (a request's, through the outbox), or starts one for scheduled work.
 */
export function runJobInTrace<T>(queue: string, job: TracedJob, process: () => Promise<T>) {
  const parent = contextFrom(parseMetadata(job.opts.telemetry?.metadata));
  return tracer.startActiveSpan(
    `process ${queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': queue,
        'messaging.message.id': job.id ?? '',
        'messaging.bullmq.job.name': job.name,
        'messaging.bullmq.job.attempt': job.attemptsMade + 1,
      },
    },
    parent,
    async (span): Promise<T> => {
      try {
        return await process();
      } catch (error) {
        recordError(error, span);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * A client span around a call to a peer the instrumentations cannot see (SMTP): name and
 * attributes by the semantic conventions, errors recorded without secrets.
 */
export function runClientSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  call: () => Promise<T>,
): Promise<T> {
  if (!trace.getActiveSpan()) return call();
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.CLIENT, attributes },
    async (span): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        recordError(error, span);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
