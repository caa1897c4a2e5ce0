import { z } from 'zod';
import { defineArea, integer } from './area.js';

/** The process itself: which environment, where it listens, how it is addressed and logs. */
export const NodeEnv = z.enum(['development', 'test', 'production']).default('development');

export const processArea = defineArea({
  schema: z.object({
    NODE_ENV: NodeEnv,
    HOST: z.string().default('0.0.0.0'),
    PORT: integer(0, 65535).default(3000),
    PUBLIC_URL: z.url().optional(),
    APP_URL: z.url().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  }),
  build: (env) => ({
    env: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    isTest: env.NODE_ENV === 'test',
    host: env.HOST,
    port: env.PORT,
    publicUrl: (env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/, ''),
    /** Where invite and reset links point: the POS web app (APP_URL), else this API's own pages. */
    appUrl: (env.APP_URL ?? env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/, ''),
    /** While APP_URL is unset the API serves /invite/accept and /reset-password itself. */
    servesAccountPages: env.APP_URL === undefined,
    logLevel:
      env.LOG_LEVEL ??
      (env.NODE_ENV === 'production' ? 'info' : env.NODE_ENV === 'test' ? 'silent' : 'debug'),
  }),
});
