import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import {
  AdjustmentBody,
  AdjustmentResultSchema,
  ListMovementsQuery,
  LowStockListSchema,
  LowStockQuery,
  MovementListSchema,
  TransferBody,
  TransferResultSchema,
} from './inventory.schemas.js';
import * as inventory from './inventory.service.js';

const tags = ['Inventory'];

const adjust = defineRoute({
  method: 'post',
  path: '/inventory/adjustments',
  operationId: 'createStockAdjustment',
  summary: 'Receive, adjust or count stock; one ledger movement per item, all in one transaction',
  tags,
  access: 'inventory:write',
  requiresActiveSubscription: true,
  idempotency: 'required',
  request: { body: AdjustmentBody },
  problems: ['NOT_FOUND', 'UNPROCESSABLE'],
  responses: { 201: { description: 'The movements recorded', schema: AdjustmentResultSchema } },
  handler: async (ctx) => {
    ctx.body = await inventory.adjustStock(ctx.deps, requireAuth(ctx), ctx.input.body);
    ctx.status = 201;
  },
});

const transfer = defineRoute({
  method: 'post',
  path: '/inventory/transfers',
  operationId: 'createStockTransfer',
  summary:
    'Move stock between two locations: a transfer_out and a transfer_in per item, in one transaction',
  tags,
  access: 'inventory:write',
  requiresActiveSubscription: true,
  idempotency: 'required',
  request: { body: TransferBody },
  problems: ['NOT_FOUND', 'UNPROCESSABLE'],
  responses: { 201: { description: 'The movements recorded', schema: TransferResultSchema } },
  handler: async (ctx) => {
    ctx.body = await inventory.transferStock(ctx.deps, requireAuth(ctx), ctx.input.body);
    ctx.status = 201;
  },
});

const movements = defineRoute({
  method: 'get',
  path: '/inventory/movements',
  operationId: 'listStockMovements',
  summary: "The stock ledger, newest first; a product's stockQuantity is the sum of its deltas",
  tags,
  access: 'inventory:read',
  request: { query: ListMovementsQuery },
  problems: ['NOT_FOUND'],
  responses: { 200: { description: 'A page of movements', schema: MovementListSchema } },
  handler: async (ctx) => {
    ctx.body = await inventory.listMovements(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const lowStock = defineRoute({
  method: 'get',
  path: '/inventory/low-stock',
  operationId: 'listLowStock',
  summary:
    'Tracked, non-archived products at or under their lowStockThreshold, one row per location',
  tags,
  access: 'inventory:read',
  request: { query: LowStockQuery },
  problems: ['NOT_FOUND'],
  responses: { 200: { description: 'A page of products', schema: LowStockListSchema } },
  handler: async (ctx) => {
    ctx.body = await inventory.listLowStock(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

export const inventoryRoutes = [adjust, transfer, movements, lowStock];
