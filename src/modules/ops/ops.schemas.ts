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

export const ProblemTypeResponse = z
  .object({
    type: z.string().max(64).meta({ example: '/errors/not-found' }),
    code: z.string().max(64).meta({ example: 'NOT_FOUND' }),
    title: z.string().max(64),
    status: z.int().min(400).max(599),
    retryable: z.boolean().describe('Whether an answer with this code is retryable by default'),
    description: z.string().max(1000).describe('When it is answered and what to do'),
  })
  .meta({ id: 'ProblemType' });

export const ProblemTypeParams = z.object({
  slug: z
    .string()
    .max(64)
    .regex(/^[a-z0-9-]+$/)
    .meta({ example: 'payload-too-large' }),
});
