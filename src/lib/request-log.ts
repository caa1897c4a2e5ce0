import { redactUrl, serializeError } from './logger.js';

interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
  remotePort?: number;
}

/**
 * How koa-pino-logger's "request completed" line shows the request and the response.
 *
 * The response's headers are left out everywhere: they are the server's own (CSP, HSTS,
 * CORS…), the same on every answer, and were most of a ~1.5 KB line. In development the
 * request is only its method and URL, so a line reads at a glance in the terminal; other
 * environments keep the client's headers (redacted) for tracing a caller.
 */
export function requestLogSerializers(env: 'development' | 'test' | 'production') {
  return {
    // pino-http installs its own err serializer on the request logger; keep ours.
    err: serializeError,
    req: (req: unknown) => {
      const serialized = req as SerializedRequest;
      const url = redactUrl(serialized.url);
      return env === 'development' ? { method: serialized.method, url } : { ...serialized, url };
    },
    res: (res: unknown) => ({ statusCode: (res as { statusCode?: number }).statusCode }),
  };
}
