import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import {
  CreateReturnBody,
  ListReturnsQuery,
  Return,
  ReturnList,
  ReturnParams,
} from './returns.schemas.js';
import { createReturn, getReturn, listReturns } from './returns.service.js';

// Like sales, no route here requires an active subscription: a return is a fact.

const create = defineRoute({
  method: 'post',
  path: '/returns',
  operationId: 'createReturn',
  summary: 'Record a return (credit note) of lines of a sale exactly once (offline-safe)',
  description:
    'The server computes the money from the sold lines. `refunds` must add up to the computed total (`422 TOTALS_MISMATCH`). Returning more of a line than is left, a line of another sale, or a voided sale is `422`; a `credit` refund lowers what the sale’s customer owes (a sale without a customer → `422`). `locationId` defaults to the sale’s location. A replay with the same clientRequestId and body answers `200` with `Idempotent-Replayed: true`; another body is `422 IDEMPOTENCY_KEY_REUSED`. Emits `return.created`.',
  tags: ['Returns'],
  access: 'returns:create',
  request: { body: CreateReturnBody },
  problems: ['NOT_FOUND', 'UNPROCESSABLE', 'TOTALS_MISMATCH', 'IDEMPOTENCY_KEY_REUSED'],
  responses: {
    201: {
      description: 'Recorded',
      schema: Return,
      headers: { Location: { description: '/returns/{id}' } },
    },
    200: {
      description: 'Already recorded with this clientRequestId and body (a replay)',
      schema: Return,
      headers: { 'Idempotent-Replayed': { description: '`true`' } },
    },
  },
  handler: async (ctx) => {
    const outcome = await createReturn(ctx.deps, requireAuth(ctx), ctx.input.body);
    if (outcome.status === 'created') {
      ctx.status = 201;
      ctx.set('Location', `/returns/${outcome.return.id}`);
    } else {
      ctx.status = 200;
      ctx.set('Idempotent-Replayed', 'true');
    }
    ctx.body = outcome.return;
  },
});

const list = defineRoute({
  method: 'get',
  path: '/returns',
  operationId: 'listReturns',
  summary: 'Returns, newest first by (occurredAt, id)',
  description:
    '`from`/`to` are inclusive days in the business timezone, applied to `occurredAt`. Limited to the caller’s assigned locations.',
  tags: ['Returns'],
  access: 'returns:read',
  request: { query: ListReturnsQuery },
  problems: ['NOT_FOUND'],
  responses: { 200: { description: 'A page of returns', schema: ReturnList } },
  handler: async (ctx) => {
    ctx.body = await listReturns(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const get = defineRoute({
  method: 'get',
  path: '/returns/{id}',
  operationId: 'getReturn',
  summary: 'One return with its lines and refunds',
  tags: ['Returns'],
  access: 'returns:read',
  request: { params: ReturnParams },
  responses: { 200: { description: 'The return', schema: Return } },
  handler: async (ctx) => {
    ctx.body = await getReturn(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

export const returnsRoutes = [create, list, get];
