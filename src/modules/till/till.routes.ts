import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import {
  C2bCallbackAck,
  C2bCallbackBody,
  C2bCallbackParams,
  PutTillSettingsBody,
  RegisterC2bResult,
  TillPaymentListQuery,
  TillPaymentPage,
  TillSettings,
} from './till.schemas.js';
import {
  getTillSettings,
  listTillPayments,
  putTillSettings,
  receiveC2bCallback,
  registerC2b,
} from './till.service.js';
import type { C2bCallbackKind } from '../../db/schema/index.js';

const TAGS = ['M-Pesa at the till'];

const putSettings = defineRoute({
  method: 'put',
  path: '/business/mpesa',
  operationId: 'putTillSettings',
  summary: 'Set the business’s own M-Pesa till or paybill (owner)',
  description:
    'The Daraja app (consumer key and secret) and Lipa na M-Pesa passkey of the business’s own shortcode: sale STK pushes and till payments go to it. Secrets are stored encrypted and never returned.',
  tags: TAGS,
  access: 'business:manage',
  request: { body: PutTillSettingsBody },
  responses: { 200: { description: 'Saved', schema: TillSettings } },
  handler: async (ctx) => {
    ctx.body = await putTillSettings(ctx.deps, requireAuth(ctx), ctx.input.body);
  },
});

const getSettings = defineRoute({
  method: 'get',
  path: '/business/mpesa',
  operationId: 'getTillSettings',
  summary: 'The business’s M-Pesa till settings, without secrets (owner)',
  tags: TAGS,
  access: 'business:manage',
  responses: { 200: { description: 'The settings', schema: TillSettings } },
  handler: async (ctx) => {
    ctx.body = await getTillSettings(ctx.deps, requireAuth(ctx));
  },
});

const registerC2bRoute = defineRoute({
  method: 'post',
  path: '/business/mpesa/register-c2b',
  operationId: 'registerTillC2bUrls',
  summary: 'Register the business’s confirmation and validation URLs with M-Pesa (owner)',
  description:
    'C2B Register URL with the business’s own Daraja app (ResponseType Completed). Without settings → 422. Production registration is one-time at Safaricom; changing it goes through the Daraja portal.',
  tags: TAGS,
  access: 'business:manage',
  problems: ['UNPROCESSABLE', 'BAD_GATEWAY', 'SERVICE_UNAVAILABLE'],
  responses: { 200: { description: 'Registered', schema: RegisterC2bResult } },
  handler: async (ctx) => {
    ctx.body = await registerC2b(ctx.deps, requireAuth(ctx));
  },
});

const listPayments = defineRoute({
  method: 'get',
  path: '/bv-payments/c2b',
  operationId: 'listTillPayments',
  summary: 'Payments customers made into the till, newest first',
  description:
    'For the checkout screen: pick the unclaimed payment (same amount first) and record the sale with `{method: "mpesa", reference: transId}`.',
  tags: TAGS,
  access: 'payments:sale',
  request: { query: TillPaymentListQuery },
  responses: { 200: { description: 'A page of till payments', schema: TillPaymentPage } },
  handler: async (ctx) => {
    ctx.body = await listTillPayments(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const callbackRoute = (kind: C2bCallbackKind) =>
  defineRoute({
    method: 'post',
    path: `/bv-payments/callbacks/c2b/{token}/${kind}`,
    operationId: kind === 'validation' ? 'receiveC2bValidation' : 'receiveC2bConfirmation',
    summary:
      kind === 'validation'
        ? 'Safaricom’s C2B validation request (the URL is secret per business)'
        : 'Safaricom’s C2B confirmation (the URL is secret per business)',
    description:
      'Stored raw before the answer; unknown token → 404 and nothing stored. A confirmation is applied by a worker (each TransID once per business). Callers outside MPESA_CALLBACK_ALLOWLIST (when set) → 403.',
    tags: TAGS,
    access: 'public',
    bodyLimit: '64kb',
    request: { params: C2bCallbackParams, body: C2bCallbackBody },
    problems: ['FORBIDDEN'],
    responses: {
      200: {
        description: 'Daraja’s answer: ResultCode "0" accepts; C2B000xx rejects (validation)',
        schema: C2bCallbackAck,
      },
    },
    handler: async (ctx) => {
      ctx.body = await receiveC2bCallback(ctx.deps, {
        token: ctx.input.params.token,
        kind,
        payload: ctx.input.body,
        sourceIp: ctx.ip,
      });
    },
  });

export const tillRoutes = [
  putSettings,
  getSettings,
  registerC2bRoute,
  listPayments,
  callbackRoute('validation'),
  callbackRoute('confirmation'),
];
