import { defineRoute } from '../../src/http/route.js';
import { requireAuth } from '../../src/http/context.js';
import { AppError, unprocessable } from '../../src/lib/errors.js';
import { z } from '../../src/lib/zod.js';

/** Routes that exist only in tests, to drive the pipeline's edges (errors, slowness, auth). */
let counter = 0;
export const callsToCounter = () => counter;
let inFlight = 0;
let peakInFlight = 0;

export const testRoutes = [
  defineRoute({
    method: 'post',
    path: '/__test/echo',
    operationId: 'testEcho',
    summary: 'echo',
    tags: ['Test'],
    access: 'public',
    request: {
      body: z.strictObject({
        name: z.string().min(1).max(20),
        quantity: z.number().int().positive(),
      }),
      query: z.object({ flag: z.enum(['a', 'b']).optional() }),
    },
    responses: { 200: { description: 'echo' } },
    handler: (ctx) => {
      ctx.body = { ...ctx.input.body, flag: ctx.input.query.flag ?? null };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/__test/boom',
    operationId: 'testBoom',
    summary: 'throws',
    tags: ['Test'],
    access: 'public',
    responses: { 200: { description: 'never' } },
    handler: () => {
      throw new Error('secret internals: password=hunter2 at db.query(select * from users)');
    },
  }),
  defineRoute({
    method: 'get',
    path: '/__test/slow',
    operationId: 'testSlow',
    summary: 'slow',
    tags: ['Test'],
    access: 'public',
    request: { query: z.object({ ms: z.string().regex(/^\d+$/).default('500') }) },
    responses: { 200: { description: 'done' } },
    handler: async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, Number(ctx.input.query.ms)));
      ctx.body = { done: true };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/__test/one-at-a-time',
    operationId: 'testOneAtATime',
    summary: 'one handled at a time, one more may wait',
    tags: ['Test'],
    access: 'public',
    concurrency: { max: 1, queue: 1, maxWaitMs: 10_000 },
    request: { body: z.strictObject({ ms: z.number().int().min(0).max(5_000) }) },
    responses: { 200: { description: 'done' } },
    handler: async (ctx) => {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, ctx.input.body.ms));
      inFlight--;
      ctx.body = { peakInFlight };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/__test/short-wait',
    operationId: 'testShortWait',
    summary: 'one handled at a time; others wait at most 200 ms',
    tags: ['Test'],
    access: 'public',
    concurrency: { max: 1, queue: 4, maxWaitMs: 200 },
    request: { body: z.strictObject({ ms: z.number().int().min(0).max(5_000) }) },
    responses: { 200: { description: 'done' } },
    handler: async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, ctx.input.body.ms));
      ctx.body = { done: true };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/__test/me',
    operationId: 'testMe',
    summary: 'who am i',
    tags: ['Test'],
    access: 'authenticated',
    responses: { 200: { description: 'auth' } },
    handler: (ctx) => {
      const auth = requireAuth(ctx);
      ctx.body = { userId: auth.userId, businessId: auth.businessId, role: auth.role };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/__test/managed',
    operationId: 'testManaged',
    summary: 'catalog writers and active subscriptions only',
    tags: ['Test'],
    access: 'catalog:write',
    requiresActiveSubscription: true,
    responses: { 204: { description: 'ok' } },
    handler: (ctx) => {
      ctx.status = 204;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/__test/counter',
    operationId: 'testCounter',
    summary: 'idempotent counter',
    tags: ['Test'],
    access: 'authenticated',
    idempotency: 'required',
    request: {
      body: z.strictObject({
        amount: z.number().int(),
        at: z.iso.datetime({ offset: true }).optional(),
        delayMs: z.number().int().min(0).max(2000).optional(),
        fail: z.enum(['422', '500']).optional(),
      }),
    },
    responses: { 201: { description: 'counted' } },
    handler: async (ctx) => {
      const { delayMs, fail, amount } = ctx.input.body;
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      counter += 1;
      if (fail === '422') throw unprocessable('amount rejected');
      if (fail === '500') throw new AppError('INTERNAL', 'transient');
      ctx.status = 201;
      ctx.set('Location', `/__test/counter/${counter}`);
      ctx.body = { call: counter, amount };
    },
  }),
];
