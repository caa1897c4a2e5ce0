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
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  }),
  build: (env) => ({
    env: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    isTest: env.NODE_ENV === 'test',
    host: env.HOST,
    port: env.PORT,
    publicUrl: (env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/, ''),
    logLevel:
      env.LOG_LEVEL ??
      (env.NODE_ENV === 'production' ? 'info' : env.NODE_ENV === 'test' ? 'silent' : 'debug'),
  }),
});
