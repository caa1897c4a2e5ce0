import { z } from '../../lib/zod.js';

export const HealthResponse = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

const CheckState = z.enum(['ok', 'down', 'pending']);

export const ReadyResponse = z
  .object({
    status: z.enum(['ready', 'not_ready', 'shutting_down']),
    checks: z.object({
      database: CheckState,
      migrations: CheckState.describe('`pending` when committed migrations are not yet applied'),
      redis: CheckState,
    }),
  })
  .meta({ id: 'Readiness' });
export type ReadyResponse = z.infer<typeof ReadyResponse>;
