import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { envDetector, detectResources, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import {
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
} from '@opentelemetry/semantic-conventions';
import type { Config } from '../config.js';
import { redactUrl } from '../lib/logger.js';
import { onObservabilityFlush } from './flush.js';

type TracingConfig = NonNullable<Config['observability']['tracing']>;

/** Endpoints probed every few seconds by orchestrators: spans of them would only be noise. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

let provider: NodeTracerProvider | undefined;

/**
 * Starts the OpenTelemetry SDK: W3C trace context propagation, the instrumentations
 * (incoming and outgoing HTTP, undici/fetch, PostgreSQL, Redis) and a batching OTLP/HTTP
 * exporter. Call before the instrumented modules are imported (src/otel-register.ts).
 */
export function startTracing(config: TracingConfig, role: string, version: string): void {
  if (provider) return;
  const exporter =
    config.protocol === 'http/json'
      ? new OTLPJsonTraceExporter({ url: config.url })
      : new OTLPProtoTraceExporter({ url: config.url });
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: version,
      'deployment.environment.name': config.environment,
      // API or worker: one service, two kinds of process.
      'service.instance.role': role,
    }).merge(detectResources({ detectors: [envDetector] })),
    sampler: samplerFor(config),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const started = provider;
  onObservabilityFlush(() => started.forceFlush());
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          QUIET_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
        requestHook: (span, request) => {
          if (isIncoming(request)) redactIncoming(span, request);
        },
      }),
      new UndiciInstrumentation({
        // A peer's URL is the customer's (webhooks) or carries keys in its query: keep the
        // origin and path, never the query string or credentials.
        requestHook: (span, request) => redactOutgoing(span, request.origin, request.path),
      }),
      // Spans only inside a trace: the relay's and BullMQ's polling would otherwise make a
      // root trace every few hundred milliseconds.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // Keys can name an email or an address (login throttle); the command is enough.
        dbStatementSerializer: (command) => command,
      }),
    ],
  });
}

function samplerFor(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

const isIncoming = (request: unknown): request is IncomingMessage =>
  typeof (request as { socket?: unknown }).socket === 'object' &&
  typeof (request as { headers?: unknown }).headers === 'object' &&
  !('getHeader' in (request as object));

/** The M-Pesa callback URL's last segment is a per-payment secret (lib/logger.ts redactUrl). */
function redactIncoming(span: Span, request: IncomingMessage): void {
  const [path = '/', query] = (request.url ?? '/').split('?');
  const redacted = redactUrl(path) ?? path;
  if (redacted !== path) span.setAttribute(ATTR_URL_PATH, redacted);
  // Filters can hold a customer's phone number or name (searches): keep them out.
  if (query !== undefined) span.setAttribute(ATTR_URL_QUERY, '[redacted]');
}

function redactOutgoing(span: Span, origin: string, pathAndQuery: string): void {
  const [path = '/', query] = pathAndQuery.split('?');
  let base = origin;
  try {
    const url = new URL(origin);
    base = `${url.protocol}//${url.host}`; // drops any user:password@
  } catch {
    // keep the origin as undici gave it
  }
  span.setAttribute(ATTR_URL_FULL, `${base}${path}${query === undefined ? '' : '?[redacted]'}`);
  if (query !== undefined) span.setAttribute(ATTR_URL_QUERY, '[redacted]');
}
