import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import { requestMetaOf } from '../audit/audit.service.js';
import { Business, Subscription, UpdateBusinessBody } from './business.schemas.js';
import {
  getBusinessRow,
  getSubscription,
  presentBusiness,
  updateBusiness,
} from './business.service.js';

const getBusiness = defineRoute({
  method: 'get',
  path: '/business',
  operationId: 'getBusiness',
  summary: "The caller's business",
  description: 'Every signed-in user may read it (receipts need the name and time zone).',
  tags: ['Business'],
  access: 'authenticated',
  responses: { 200: { description: 'The business', schema: Business } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = presentBusiness(await getBusinessRow(ctx.deps.db, auth));
  },
});

const patchBusiness = defineRoute({
  method: 'patch',
  path: '/business',
  operationId: 'updateBusiness',
  summary: 'Change the business settings (owner)',
  tags: ['Business'],
  access: 'business:manage',
  request: { body: UpdateBusinessBody },
  responses: { 200: { description: 'The updated business', schema: Business } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await updateBusiness(ctx.deps, auth, requestMetaOf(ctx), ctx.input.body);
  },
});

const getBusinessSubscription = defineRoute({
  method: 'get',
  path: '/business/subscription',
  operationId: 'getSubscription',
  summary: 'Subscription plan, status and period end',
  description:
    'Every signed-in user may read it, so the POS can warn before the shop is locked out. ' +
    'Status is derived: past `currentPeriodEnd` a business is `past_due` for 3 days, then `expired`.',
  tags: ['Business'],
  access: 'authenticated',
  responses: { 200: { description: 'The subscription', schema: Subscription } },
  handler: async (ctx) => {
    ctx.body = await getSubscription(ctx.deps, requireAuth(ctx));
  },
});

export const businessRoutes = [getBusiness, patchBusiness, getBusinessSubscription];
