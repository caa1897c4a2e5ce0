import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import { requestMetaOf } from '../audit/audit.service.js';
import {
  EtimsBlock,
  EtimsInitializeResult,
  EtimsSaleParams,
  EtimsSettings,
  EtimsSettingsBody,
} from './etims.schemas.js';
import {
  getEtimsSettings,
  initializeEtims,
  putEtimsSettings,
  retrySaleEtims,
} from './etims.service.js';

const getSettings = defineRoute({
  method: 'get',
  path: '/business/etims',
  operationId: 'getEtimsSettings',
  summary: 'KRA eTIMS settings and the device of each location (owner)',
  description:
    'The KRA PIN is never returned (only its last characters); keys never leave the server.',
  tags: ['KRA eTIMS'],
  access: 'business:manage',
  responses: { 200: { description: 'The settings', schema: EtimsSettings } },
  handler: async (ctx) => {
    ctx.body = await getEtimsSettings(ctx.deps, requireAuth(ctx));
  },
});

const putSettings = defineRoute({
  method: 'put',
  path: '/business/etims',
  operationId: 'putEtimsSettings',
  summary: 'Set the KRA PIN, environment and switch eTIMS on or off (owner)',
  description:
    'Switching on records `enabledAt`: only sales that occur from then on are transmitted; earlier sales are never sent.',
  tags: ['KRA eTIMS'],
  access: 'business:manage',
  request: { body: EtimsSettingsBody },
  responses: { 200: { description: 'The settings', schema: EtimsSettings } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await putEtimsSettings(ctx.deps, auth, requestMetaOf(ctx), ctx.input.body);
  },
});

const initialize = defineRoute({
  method: 'post',
  path: '/business/etims/initialize',
  operationId: 'initializeEtims',
  summary: 'Initialise the OSCU device of every location with KRA (owner)',
  description:
    "Runs KRA's selectInitOsdcInfo for each open location's `etimsBranchId` and keeps the answer (the communication key encrypted at rest). Locations already initialised are left alone; a location KRA refuses is reported with KRA's code.",
  tags: ['KRA eTIMS'],
  access: 'business:manage',
  idempotency: 'optional',
  problems: ['CONFLICT'],
  responses: { 200: { description: 'Each location', schema: EtimsInitializeResult } },
  handler: async (ctx) => {
    ctx.body = await initializeEtims(ctx.deps, requireAuth(ctx));
  },
});

const retry = defineRoute({
  method: 'post',
  path: '/sales/{id}/etims/retry',
  operationId: 'retrySaleEtims',
  summary: "Send a sale's failed eTIMS invoice (or credit note) again after a fix",
  description:
    "Failed documents (the sale's invoice, its void's credit note, its returns' credit notes) go back to `pending` with the same invoice numbers and are queued; a sale with nothing failed answers its block unchanged.",
  tags: ['KRA eTIMS'],
  access: 'etims:retry',
  idempotency: 'optional',
  request: { params: EtimsSaleParams },
  responses: { 200: { description: "The sale's eTIMS block", schema: EtimsBlock } },
  handler: async (ctx) => {
    ctx.body = await retrySaleEtims(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

export const etimsRoutes = [getSettings, putSettings, initialize, retry];
