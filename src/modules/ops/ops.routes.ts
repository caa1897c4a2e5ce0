import { timingSafeEqual } from 'node:crypto';
import { defineRoute } from '../../http/route.js';
import { AppError, notFound } from '../../lib/errors.js';
import { metricsRegistry } from '../../lib/metrics.js';
import { z } from '../../lib/zod.js';
import {
  HealthResponse,
  ProblemTypeParams,
  ProblemTypeResponse,
  ReadyResponse,
} from './ops.schemas.js';
import { findProblemType, problemTypePage } from './problem-types.js';
import { checkReadiness } from './ops.service.js';

const health = defineRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  summary: 'Liveness: 200 while the process runs (no dependency is called)',
  tags: ['Operations'],
  access: 'public',
  responses: { 200: { description: 'The process is alive', schema: HealthResponse } },
  handler: (ctx) => {
    ctx.body = { status: 'ok' };
  },
});

const ready = defineRoute({
  method: 'get',
  path: '/ready',
  operationId: 'getReadiness',
  summary: 'Readiness: PostgreSQL, migrations and Redis; 503 from the moment shutdown begins',
  tags: ['Operations'],
  access: 'public',
  responses: {
    200: { description: 'Ready for traffic', schema: ReadyResponse },
    503: {
      description: 'Not ready: each check says which dependency is down',
      schema: ReadyResponse,
    },
  },
  handler: async (ctx) => {
    const readiness = await checkReadiness(ctx.deps);
    ctx.status = readiness.status === 'ready' ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = readiness;
  },
});

const problemType = defineRoute({
  method: 'get',
  path: '/errors/{slug}',
  operationId: 'getProblemType',
  summary: 'What a problem type means: every problem document’s `type` URI resolves here',
  description:
    'JSON by default; an HTML page when the client prefers text/html (a browser following the link).',
  tags: ['Operations'],
  access: 'public',
  request: { params: ProblemTypeParams },
  responses: {
    200: { description: 'The problem type', schema: ProblemTypeResponse },
  },
  handler: (ctx) => {
    const problem = findProblemType(ctx.input.params.slug);
    if (!problem) throw notFound('Problem type');
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.vary('Accept');
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = problemTypePage(problem);
      return;
    }
    ctx.body = problem;
  },
});

const metrics = defineRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics (bearer METRICS_TOKEN when configured)',
  tags: ['Operations'],
  access: 'public',
  problems: ['UNAUTHENTICATED'],
  responses: {
    200: {
      description: 'Prometheus text exposition',
      schema: z.string(),
      contentType: 'text/plain',
    },
  },
  handler: async (ctx) => {
    const expected = ctx.deps.config.metricsToken;
    if (expected !== undefined && !tokenMatches(ctx.get('authorization'), expected)) {
      throw new AppError('UNAUTHENTICATED', 'Metrics require the bearer METRICS_TOKEN');
    }
    ctx.type = metricsRegistry.contentType;
    ctx.body = await metricsRegistry.metrics();
  },
});

function tokenMatches(header: string, expected: string): boolean {
  const given = Buffer.from(header.replace(/^Bearer /, ''));
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export const opsRoutes = [health, ready, metrics, problemType];
