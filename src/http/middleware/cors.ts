import cors from '@koa/cors';
import type { Middleware } from 'koa';
import type { AppContextExtensions, AppState } from '../context.js';

/**
 * The longest Origin ever echoed in Access-Control-Allow-Origin. A serialized origin is
 * scheme://host[:port] (a host name is at most 253 characters); with CORS_ORIGINS=* the
 * header is echoed as sent, so anything longer is not an origin and gets no CORS headers.
 */
export const MAX_CORS_ORIGIN_LENGTH = 300;

const EXPOSED_HEADERS = [
  'X-Request-Id',
  'Location',
  'ETag',
  'Idempotent-Replayed',
  'Retry-After',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
];
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-Match',
  'If-None-Match',
  'X-Request-Id',
];

/** CORS for the allowlisted browser origins (CORS_ORIGINS; `*` allows any). */
export function corsPolicy(
  allowedOrigins: readonly string[],
): Middleware<AppState, AppContextExtensions> {
  const anyOrigin = allowedOrigins.includes('*');
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('origin');
      if (origin.length > MAX_CORS_ORIGIN_LENGTH) return '';
      return anyOrigin || allowedOrigins.includes(origin) ? origin : '';
    },
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  }) as Middleware<AppState, AppContextExtensions>;
}
