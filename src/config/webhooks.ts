import { z } from 'zod';
import { booleanString, defineArea, integer, trimmedString } from './area.js';

// 32 bytes, base64: encrypts webhook secrets at rest outside production only.
const DEV_WEBHOOK_SECRET_KEY = 'ZGV2ZWxvcG1lbnQtb25seS13ZWJob29rLWtleS0zMmI=';

/** Integrator webhooks: target policy, secret encryption at rest, retries and timeouts. */
export const webhooksArea = defineArea({
  schema: z.object({
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanString.default(false),
    WEBHOOK_SECRET_KEY: trimmedString
      .refine((key) => Buffer.from(key, 'base64').length === 32, {
        message: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
      })
      .optional(),
    WEBHOOK_RETRY_SCHEDULE_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds')
      .default('5000,300000,1800000,7200000,18000000,36000000,36000000'),
    WEBHOOK_TIMEOUT_MS: integer(100, 60_000).default(10_000),
    WEBHOOK_DISABLE_AFTER_SECONDS: integer(0).default(5 * 24 * 3600),
  }),
  requiredInProduction: { WEBHOOK_SECRET_KEY: '32 bytes, base64' },
  check: (env, runtime) => {
    if (!runtime.isProduction) return [];
    const problems: string[] = [];
    if (env.WEBHOOK_ALLOW_PRIVATE_NETWORKS) {
      problems.push(
        'WEBHOOK_ALLOW_PRIVATE_NETWORKS: must be false in production (it exists for development and tests only)',
      );
    }
    if (env.WEBHOOK_SECRET_KEY === DEV_WEBHOOK_SECRET_KEY) {
      problems.push('WEBHOOK_SECRET_KEY: is the development default');
    }
    return problems;
  },
  build: (env) => ({
    webhooks: {
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      secretKey: Buffer.from(env.WEBHOOK_SECRET_KEY ?? DEV_WEBHOOK_SECRET_KEY, 'base64'),
      /** Delays before the 2nd, 3rd… attempt; after the last the delivery is dead. */
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map(Number),
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
    },
  }),
});
