import { z } from 'zod';
import { buildObservabilityConfig, observabilityEnvShape } from '../observability/config.js';
import { defineArea } from './area.js';

/** Tracing (the standard OTEL_* variables) and error tracking (SENTRY_*): off when unset. */
export const observabilityArea = defineArea({
  schema: z.object(observabilityEnvShape),
  build: (env, runtime) => ({
    observability: buildObservabilityConfig({ ...env, NODE_ENV: runtime.nodeEnv }),
  }),
});
