import { z } from 'zod';
import { OSCU_HOSTS } from '../etims/codes.js';
import { defineArea, integer } from './area.js';

/**
 * KRA eTIMS (OSCU). The host follows each business's `environment` (sandbox or production,
 * OSCU_HOSTS) unless ETIMS_BASE_URL overrides it for every business; in development and
 * tests without it, the local OSCU simulator (`pnpm etims:simulator`, started by `pnpm dev`).
 */
export const etimsArea = defineArea({
  schema: z.object({
    ETIMS_BASE_URL: z.url().optional(),
    ETIMS_HTTP_TIMEOUT_MS: integer(100, 120_000).default(15_000),
    ETIMS_SIMULATOR_PORT: integer(0, 65535).default(4010),
    ETIMS_DEVICE_SERIAL_PREFIX: z.string().trim().min(1).max(40).default('backend-api'),
  }),
  check: (env, runtime) =>
    runtime.isProduction && env.ETIMS_BASE_URL?.startsWith('http://127.0.0.1')
      ? ['ETIMS_BASE_URL: the OSCU simulator is for development and tests only']
      : [],
  build: (env, runtime) => {
    const override = env.ETIMS_BASE_URL?.replace(/\/+$/, '');
    const simulator = `http://127.0.0.1:${env.ETIMS_SIMULATOR_PORT}/etims-api`;
    return {
      etims: {
        /** The OSCU base URL (`…/etims-api`) for a business in each `environment`. */
        baseUrls: {
          sandbox: override ?? (runtime.isProduction ? OSCU_HOSTS.sandbox : simulator),
          production: override ?? (runtime.isProduction ? OSCU_HOSTS.production : simulator),
        },
        /** No ETIMS_BASE_URL outside production: the local simulator. */
        simulated: override === undefined && !runtime.isProduction,
        timeoutMs: env.ETIMS_HTTP_TIMEOUT_MS,
        simulatorPort: env.ETIMS_SIMULATOR_PORT,
        /** Sent as `dvcSrlNo` at initialisation: `<prefix>-<location id>`. */
        deviceSerialPrefix: env.ETIMS_DEVICE_SERIAL_PREFIX,
      },
    };
  },
});
