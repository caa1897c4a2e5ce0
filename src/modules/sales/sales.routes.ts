import { requireAuth } from '../../http/context.js';
import { withProblemDocuments } from '../../http/problem.js';
import { defineRoute } from '../../http/route.js';
import { z } from '../../lib/zod.js';
import { emailSaleReceipt, getSale, listSales, voidSale } from './sales-admin.service.js';
import {
  CreateSaleBody,
  ListSalesQuery,
  ReceiptEmailBody,
  Sale,
  SaleList,
  SaleParams,
  SyncSalesBody,
  SyncSalesResponse,
  VoidSaleBody,
} from './sales.schemas.js';
import { createSale, syncSales } from './sales.service.js';

// No route here requires an active subscription: a sale is a fact (API.md).

const create = defineRoute({
  method: 'post',
  path: '/sales',
  operationId: 'createSale',
  summary: 'Record a sale exactly once (offline-safe: clientRequestId is the idempotency key)',
  description:
    'The server computes the money (VAT-inclusive, tax contained). A replay with the same clientRequestId and the same canonical body answers `200` with the sale as it is now and `Idempotent-Replayed: true`; another body is `422 IDEMPOTENCY_KEY_REUSED`. Never refused for an expired subscription.',
  tags: ['Sales'],
  access: 'sales:create',
  request: { body: CreateSaleBody },
  problems: ['UNPROCESSABLE', 'TOTALS_MISMATCH', 'IDEMPOTENCY_KEY_REUSED'],
  responses: {
    201: {
      description: 'Recorded',
      schema: Sale,
      headers: { Location: { description: '/sales/{id}' } },
    },
    200: {
      description: 'Already recorded with this clientRequestId and body (a replay)',
      schema: Sale,
      headers: { 'Idempotent-Replayed': { description: '`true`' } },
    },
  },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    const outcome = await createSale(ctx.deps, auth, ctx.input.body);
    if (outcome.status === 'created') {
      ctx.status = 201;
      ctx.set('Location', `/sales/${outcome.sale.id}`);
    } else {
      ctx.status = 200;
      ctx.set('Idempotent-Replayed', 'true');
    }
    ctx.body = outcome.sale;
  },
});

const sync = defineRoute({
  method: 'post',
  path: '/sales/sync',
  operationId: 'syncSales',
  summary: 'Record up to 100 offline sales; one result per sale, in input order',
  description:
    'Each sale is validated and recorded on its own, exactly as POST /sales would: `created`, `duplicate` (recorded before; the stored sale) or `rejected` with the problem document POST /sales would have answered. Replaying a batch changes nothing. Body limit 5 MB. Each API process handles 2 batches at a time; more wait their turn (up to 64, then `503` with `Retry-After`).',
  tags: ['Sales'],
  access: 'sales:create',
  bodyLimit: '5mb',
  // A large batch parses into tens of megabytes: bound how many are in memory at once.
  concurrency: { max: 2, queue: 64 },
  request: { body: SyncSalesBody },
  responses: { 200: { description: 'One result per sale', schema: SyncSalesResponse } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    const results = await syncSales(ctx.deps, auth, ctx.input.body.sales);
    ctx.body = { results: withProblemDocuments(results, ctx.state.requestId) };
  },
});

const list = defineRoute({
  method: 'get',
  path: '/sales',
  operationId: 'listSales',
  summary: 'Sales, newest first by (occurredAt, id); cashiers see only their own',
  description: '`from`/`to` are inclusive days in the business timezone, applied to `occurredAt`.',
  tags: ['Sales'],
  access: 'sales:read-own',
  request: { query: ListSalesQuery },
  problems: ['NOT_FOUND'],
  responses: { 200: { description: 'A page of sales', schema: SaleList } },
  handler: async (ctx) => {
    ctx.body = await listSales(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const get = defineRoute({
  method: 'get',
  path: '/sales/{id}',
  operationId: 'getSale',
  summary: 'One sale with its lines and payments (another cashier’s sale is 404 for a cashier)',
  tags: ['Sales'],
  access: 'sales:read-own',
  request: { params: SaleParams },
  responses: { 200: { description: 'The sale', schema: Sale } },
  handler: async (ctx) => {
    ctx.body = await getSale(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

const voidRoute = defineRoute({
  method: 'post',
  path: '/sales/{id}/void',
  operationId: 'voidSale',
  summary: 'Void a sale and give its stock back (a second void answers the sale unchanged)',
  tags: ['Sales'],
  access: 'sales:void',
  idempotency: 'optional',
  request: { params: SaleParams, body: VoidSaleBody },
  responses: { 200: { description: 'The voided sale', schema: Sale } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await voidSale(ctx.deps, auth, ctx.input.params.id, ctx.input.body.reason);
  },
});

const receipt = defineRoute({
  method: 'post',
  path: '/sales/{id}/receipt/email',
  operationId: 'emailSaleReceipt',
  summary: 'Email the receipt (queued; delivered by the worker)',
  tags: ['Sales'],
  access: 'sales:read-own',
  idempotency: 'optional',
  request: { params: SaleParams, body: ReceiptEmailBody },
  responses: {
    202: { description: 'Queued', schema: z.object({ status: z.literal('queued') }) },
  },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    await emailSaleReceipt(ctx.deps, auth, ctx.input.params.id, ctx.input.body.email);
    ctx.status = 202;
    ctx.body = { status: 'queued' };
  },
});

export const salesRoutes = [create, sync, list, get, voidRoute, receipt];
