import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config.js';
import { currentTraceId } from '../observability/trace-id.js';

export type { Logger };

/**
 * Paths redacted from every log line. Headers are logged by koa-pino-logger, bodies never
 * are; these cover what services and errors may attach.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.phone',
  '*.phoneNumber',
  '*.customerPhone',
  '*.PhoneNumber',
  '*.PartyA',
  '*.MSISDN',
  'password',
  'token',
  'secret',
  'phone',
  'phoneNumber',
];

export function createLogger(
  config: Pick<Config, 'logLevel' | 'env'>,
  options: LoggerOptions = {},
  /** Where lines go instead of stdout (tests read them to prove redaction). */
  destination?: DestinationStream,
): Logger {
  const base: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'backend-api' },
    // Every line written inside a request or job names its trace (OpenTelemetry).
    mixin: traceFields,
    ...options,
    serializers: { err: serializeError, ...options.serializers },
  };
  if (destination) return pino(base, destination);
  if (config.env === 'development') {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  // Asynchronous stdout so a log write never blocks the request path; flushed on shutdown.
  return pino(base, pino.destination({ dest: 1, sync: false }));
}

const traceFields = (): { traceId?: string } => {
  const traceId = currentTraceId();
  return traceId ? { traceId } : {};
};

/** Masks all but the last three digits of a phone number, for the rare log line that needs one. */
export const maskPhone = (phone: string): string =>
  phone.length <= 3 ? '***' : `${'*'.repeat(phone.length - 3)}${phone.slice(-3)}`;

/** URL paths whose last segment is a secret (the per-payment M-Pesa callback token, the SMS delivery report token). */
const SECRET_PATHS = /^(\/bv-payments\/mpesa\/callback\/|\/sms\/delivery-reports\/)[^?/]+/;

/** A request URL fit for a log line: secrets in the path replaced. */
export const redactUrl = (url: string | undefined): string | undefined =>
  url?.replace(SECRET_PATHS, '$1[redacted]');

/**
 * pino's error serializer, minus SQL bound parameters: drizzle's DrizzleQueryError carries
 * them in `params` and spells them into its message and stack ("params: 254712345678,…"),
 * and they hold phone numbers, token hashes and other request values.
 */
export function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  const needles = boundParameterTexts(error);
  return needles.length > 0 ? scrubParameters(serialized, needles) : serialized;
}

function boundParameterTexts(error: unknown): string[] {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { params, cause } = current as { params?: unknown; cause?: unknown };
    if (Array.isArray(params) && params.length > 0) texts.push(`params: ${String(params)}`);
    current = cause;
  }
  return texts;
}

function scrubParameters(value: unknown, needles: string[], depth = 0): unknown {
  if (typeof value === 'string') {
    return needles.reduce((text, needle) => text.split(needle).join('params: [redacted]'), value);
  }
  if (depth > 5 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => scrubParameters(item, needles, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === 'params' ? '[redacted]' : scrubParameters(item, needles, depth + 1),
    ]),
  );
}
