import { z } from 'zod';

/**
 * The standard OpenTelemetry (`OTEL_*`) and Sentry (`SENTRY_*`) variables this service reads,
 * as one block of the environment schema (src/config.ts spreads it in). The OTLP exporter
 * itself still reads its transport knobs (`OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`,
 * `…_COMPRESSION`), as the specification says it should.
 */
const optional = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));
const optionalUrl = optional.pipe(z.url().optional());
const protocol = optional.pipe(z.enum(['http/protobuf', 'http/json']).optional());

/** Samplers of the OpenTelemetry SDK environment specification that suit a service. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

const DEFAULT_SAMPLER = 'parentbased_traceidratio';
const DEFAULT_SAMPLER_RATIO = 0.1;

export const observabilityEnvShape = {
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false'),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
  OTEL_SERVICE_NAME: optional,
  OTEL_TRACES_SAMPLER: optional.pipe(z.enum(TRACE_SAMPLERS).optional()),
  OTEL_TRACES_SAMPLER_ARG: optional.pipe(
    z.coerce.number<string | undefined>().min(0).max(1).optional(),
  ),
  SENTRY_DSN: optionalUrl,
  SENTRY_ENVIRONMENT: optional,
  SENTRY_RELEASE: optional,
};

type ObservabilityEnv = z.output<z.ZodObject<typeof observabilityEnvShape>>;

/** Where traces go (`undefined`: tracing off, no SDK started) and where errors are reported. */
export function buildObservabilityConfig(env: ObservabilityEnv & { NODE_ENV: string }) {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  // The signal-specific endpoint is used as given; the base one gets /v1/traces (OTLP spec).
  const tracesUrl =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base}/v1/traces` : undefined);
  // Unset: one trace in ten is started here (a caller's sampled traceparent is always kept).
  // Full sampling cost 14.6 % CPU per sale in `pnpm bench:tracing` (bench/README.md), over the
  // 10 % budget; OTEL_TRACES_SAMPLER=parentbased_always_on keeps every trace.
  const sampler = env.OTEL_TRACES_SAMPLER ?? DEFAULT_SAMPLER;
  return {
    tracing:
      env.OTEL_SDK_DISABLED === 'true' || tracesUrl === undefined
        ? undefined
        : {
            url: tracesUrl,
            protocol:
              env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
              env.OTEL_EXPORTER_OTLP_PROTOCOL ??
              'http/protobuf',
            serviceName: env.OTEL_SERVICE_NAME ?? 'backend-api',
            environment: env.NODE_ENV,
            sampler,
            /** Ratio for the *traceidratio samplers (spec default 1). */
            samplerRatio:
              env.OTEL_TRACES_SAMPLER_ARG ??
              (env.OTEL_TRACES_SAMPLER === undefined ? DEFAULT_SAMPLER_RATIO : 1),
          },
    sentry:
      env.SENTRY_DSN === undefined
        ? undefined
        : {
            dsn: env.SENTRY_DSN,
            environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
            /** Unset: `backend-api@<package.json version>` (src/observability/sentry.ts). */
            release: env.SENTRY_RELEASE,
          },
  };
}

export type ObservabilityConfig = ReturnType<typeof buildObservabilityConfig>;
