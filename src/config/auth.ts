import { z } from 'zod';
import { defineArea, integer, trimmedString } from './area.js';

const DEV_JWT_SECRET = 'development-only-secret-change-me-0123456789abcdef';

const isStrongSecret = (secret: string): boolean =>
  secret.length >= 32 && new Set(secret).size >= 10;

/** Tokens, sessions and the login throttle. */
export const authArea = defineArea({
  schema: z.object({
    JWT_SECRET: trimmedString
      .refine(isStrongSecret, {
        message: 'must be at least 32 characters with at least 10 distinct characters',
      })
      .optional(),
    JWT_ISSUER: z.string().default('backend-api'),
    JWT_AUDIENCE: z.string().default('backend-api'),
    REFRESH_REUSE_GRACE_SECONDS: integer(0, 300).default(10),
    LOGIN_MAX_FAILURES: integer(1, 1000).default(5),
    LOGIN_MAX_FAILURES_PER_IP: integer(1, 100_000).default(100),
    LOGIN_FAILURE_WINDOW_SECONDS: integer(1, 86_400).default(900),
    AUTH_CACHE_TTL_MS: integer(0, 300_000).default(30_000),
    AUTH_CACHE_MAX_ENTRIES: integer(100, 10_000_000).default(50_000),
  }),
  requiredInProduction: { JWT_SECRET: '>= 32 characters, >= 10 distinct' },
  check: (env, runtime) =>
    runtime.isProduction && env.JWT_SECRET === DEV_JWT_SECRET
      ? ['JWT_SECRET: is the development default']
      : [],
  build: (env) => ({
    auth: {
      jwtSecret: env.JWT_SECRET ?? DEV_JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 24 * 3600,
      refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
      inviteTtlSeconds: 7 * 24 * 3600,
      passwordResetTtlSeconds: 3600,
      loginThrottle: {
        maxFailuresPerEmail: env.LOGIN_MAX_FAILURES,
        maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
        windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
      },
      /**
       * The per-process cache of the session check (src/modules/auth/auth-cache.ts):
       * entries live this long at most (0: no cache, every request reads PostgreSQL);
       * changes are pushed through Redis and apply within 1 s either way.
       */
      cache: {
        ttlMs: env.AUTH_CACHE_TTL_MS,
        maxEntries: env.AUTH_CACHE_MAX_ENTRIES,
      },
    },
  }),
});
