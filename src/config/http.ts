import { z } from 'zod';
import { booleanString, defineArea, integer, listOfStrings, trimmedString } from './area.js';

/** The HTTP edge: rate limit, CORS, proxy trust, metrics access, the shutdown drain. */
export const httpArea = defineArea({
  schema: z.object({
    RATE_LIMIT_MAX: integer(1).default(600),
    CORS_ORIGINS: listOfStrings,
    TRUST_PROXY: booleanString.default(false),
    PROXY_MAX_IPS: integer(0).default(1),
    METRICS_TOKEN: trimmedString.optional(),
    SHUTDOWN_TIMEOUT_MS: integer(0, 120_000).default(10_000),
  }),
  build: (env) => ({
    http: {
      rateLimitMax: env.RATE_LIMIT_MAX,
      corsOrigins: env.CORS_ORIGINS,
      trustProxy: env.TRUST_PROXY,
      proxyMaxIps: env.PROXY_MAX_IPS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    metricsToken: env.METRICS_TOKEN,
  }),
});
