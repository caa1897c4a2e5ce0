import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config.js';

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
    ...options,
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

/** Masks all but the last three digits of a phone number, for the rare log line that needs one. */
export const maskPhone = (phone: string): string =>
  phone.length <= 3 ? '***' : `${'*'.repeat(phone.length - 3)}${phone.slice(-3)}`;

/** URL paths whose last segment is a secret (the per-payment M-Pesa callback token). */
const SECRET_PATHS = /^(\/bv-payments\/mpesa\/callback\/)[^?/]+/;

/** A request URL fit for a log line: secrets in the path replaced. */
export const redactUrl = (url: string | undefined): string | undefined =>
  url?.replace(SECRET_PATHS, '$1[redacted]');
