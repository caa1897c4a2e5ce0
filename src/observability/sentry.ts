import * as Sentry from '@sentry/node';
import type { Config } from '../config.js';
import { onObservabilityFlush } from './flush.js';
import { setErrorReporter, type ErrorReporter } from './report.js';
import { currentTraceId } from './trace-id.js';

type SentryConfig = NonNullable<Config['observability']['sentry']>;

/**
 * Error tracking (SENTRY_DSN; off when unset): unhandled errors, 5xx answers and internal
 * jobs that used up their attempts. Sentry runs beside our own OpenTelemetry SDK, not as
 * it (`skipOpenTelemetrySetup`), with no automatic instrumentation and no default PII;
 * every event is scrubbed of secrets and phone numbers before it leaves the process.
 */
let enabled = false;

export function startSentry(config: SentryConfig, version: string): void {
  if (enabled) return;
  Sentry.init({
    dsn: config.dsn,
    environment: config.environment,
    release: config.release ?? `backend-api@${version}`,
    sendDefaultPii: false,
    // Our tracer provider, context manager and ESM hooks stay ours (src/otel-register.ts).
    skipOpenTelemetrySetup: true,
    registerEsmLoaderHooks: false,
    defaultIntegrations: false,
    integrations: [
      Sentry.eventFiltersIntegration(),
      Sentry.functionToStringIntegration(),
      Sentry.linkedErrorsIntegration(),
      Sentry.dedupeIntegration(),
      Sentry.onUncaughtExceptionIntegration(),
      Sentry.onUnhandledRejectionIntegration(),
      Sentry.contextLinesIntegration(),
      Sentry.nodeContextIntegration(),
    ],
    beforeSend: (event) => scrubEvent(event),
    beforeBreadcrumb: () => null,
  });
  enabled = true;
  setErrorReporter(sentryReporter);
  onObservabilityFlush(async () => {
    await Sentry.flush(2_000);
  });
}

const SENSITIVE_KEY = /pass|token|secret|authori[sz]ation|cookie|phone|msisdn|partya|key/i;
// Kenyan mobile numbers as Daraja and tills write them: 2547…, 2541…, 07…, 01…, +254…
const PHONE = /(?:\+?254|\b0)[17]\d{8}\b/g;
// drizzle spells bound parameters into messages ("params: 254712345678,…").
const SQL_PARAMS = /params: [^\n]*/g;
// `password=…`, `token: …` spelled into a message.
const ASSIGNED_SECRET = /\b(pass\w*|token|secret|passkey|api[_-]?key)(\s*[=:]\s*)[^\s,;&]+/gi;

export function scrubText(text: string): string {
  return text
    .replace(SQL_PARAMS, 'params: [redacted]')
    .replace(ASSIGNED_SECRET, '$1$2[redacted]')
    .replace(PHONE, '[phone]');
}

function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth > 6 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SENSITIVE_KEY.test(key) ? '[redacted]' : scrubValue(item, depth + 1),
    ]),
  );
}

/** What leaves for Sentry: no request bodies, headers or cookies, no secrets, no phones. */
export function scrubEvent<T extends Sentry.ErrorEvent>(event: T): T {
  delete event.request;
  delete event.breadcrumbs;
  delete event.user?.ip_address;
  if (event.message) event.message = scrubText(event.message);
  for (const exception of event.exception?.values ?? []) {
    if (exception.value) exception.value = scrubText(exception.value);
    for (const frame of exception.stacktrace?.frames ?? []) {
      delete frame.vars;
      if (frame.context_line) frame.context_line = scrubText(frame.context_line);
      frame.pre_context = frame.pre_context?.map(scrubText);
      frame.post_context = frame.post_context?.map(scrubText);
    }
  }
  if (event.extra) event.extra = scrubValue(event.extra) as T['extra'];
  if (event.contexts) event.contexts = scrubValue(event.contexts) as T['contexts'];
  return event;
}

const sentryReporter: ErrorReporter = {
  requestError: (error, request) => {
    const traceId = currentTraceId();
    Sentry.captureException(error, {
      tags: {
        requestId: request.requestId,
        route: request.route ?? 'unmatched',
        method: request.method,
        status: String(request.status),
        ...(request.businessId ? { businessId: request.businessId } : {}),
        ...(traceId ? { traceId } : {}),
      },
      user: request.userId ? { id: request.userId } : undefined,
    });
  },
  deadJob: (error, job) => {
    const traceId = job.traceId;
    Sentry.captureException(error, {
      tags: {
        queue: job.queue,
        jobName: job.jobName,
        ...(job.jobId ? { jobId: job.jobId } : {}),
        ...(job.businessId ? { businessId: job.businessId } : {}),
        ...(traceId ? { traceId } : {}),
      },
      contexts: { job: { queue: job.queue, name: job.jobName, attempts: job.attempts } },
    });
  },
};
