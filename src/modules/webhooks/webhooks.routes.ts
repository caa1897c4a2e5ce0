import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import * as service from './webhooks.service.js';
import {
  CreateWebhookBody,
  Delivery,
  DeliveryList,
  DeliveryParams,
  ListQuery,
  UpdateWebhookBody,
  Webhook,
  WebhookList,
  WebhookParams,
  WebhookWithSecret,
} from './webhooks.schemas.js';

const tags = ['Webhooks'];

const createWebhook = defineRoute({
  method: 'post',
  path: '/webhooks',
  operationId: 'createWebhook',
  summary: 'Register an endpoint; the answer carries its signing secret (shown once)',
  description:
    'The URL is checked against the SSRF rules (https only in production; no private, loopback, link-local, CGNAT or multicast address, literal or resolved).',
  tags,
  access: 'webhooks:manage',
  requiresActiveSubscription: true,
  // No Idempotency-Key: a replay would have to store the plaintext secret it returns.
  request: { body: CreateWebhookBody },
  problems: ['UNPROCESSABLE'],
  responses: {
    201: {
      description: 'Created',
      schema: WebhookWithSecret,
      headers: { Location: { description: 'The new endpoint' } },
    },
  },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    const webhook = await service.createWebhook(ctx.deps, auth, ctx.input.body);
    ctx.status = 201;
    ctx.set('Location', `/webhooks/${webhook.id}`);
    ctx.body = webhook;
  },
});

const listWebhooks = defineRoute({
  method: 'get',
  path: '/webhooks',
  operationId: 'listWebhooks',
  summary: 'List the endpoints of the business',
  tags,
  access: 'webhooks:manage',
  request: { query: ListQuery },
  responses: { 200: { description: 'Endpoints, oldest first', schema: WebhookList } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await service.listWebhooks(ctx.deps, auth, ctx.input.query);
  },
});

const getWebhook = defineRoute({
  method: 'get',
  path: '/webhooks/{id}',
  operationId: 'getWebhook',
  summary: 'One endpoint',
  tags,
  access: 'webhooks:manage',
  request: { params: WebhookParams },
  responses: { 200: { description: 'The endpoint', schema: Webhook } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await service.getWebhook(ctx.deps, auth, ctx.input.params.id);
  },
});

const updateWebhook = defineRoute({
  method: 'patch',
  path: '/webhooks/{id}',
  operationId: 'updateWebhook',
  summary: 'Change url, events or description; enable or disable the endpoint',
  tags,
  access: 'webhooks:manage',
  requiresActiveSubscription: true,
  request: { params: WebhookParams, body: UpdateWebhookBody },
  problems: ['UNPROCESSABLE'],
  responses: { 200: { description: 'The updated endpoint', schema: Webhook } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await service.updateWebhook(ctx.deps, auth, ctx.input.params.id, ctx.input.body);
  },
});

const deleteWebhook = defineRoute({
  method: 'delete',
  path: '/webhooks/{id}',
  operationId: 'deleteWebhook',
  summary: 'Delete an endpoint and its delivery log',
  tags,
  access: 'webhooks:manage',
  requiresActiveSubscription: true,
  request: { params: WebhookParams },
  responses: { 204: { description: 'Deleted' } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    await service.deleteWebhook(ctx.deps, auth, ctx.input.params.id);
    ctx.status = 204;
  },
});

const rotateSecret = defineRoute({
  method: 'post',
  path: '/webhooks/{id}/rotate-secret',
  operationId: 'rotateWebhookSecret',
  summary: 'Replace the signing secret; the new one is shown once',
  tags,
  access: 'webhooks:manage',
  requiresActiveSubscription: true,
  // No Idempotency-Key: a replay would have to store the plaintext secret it returns.
  request: { params: WebhookParams },
  responses: {
    200: { description: 'The endpoint with its new secret', schema: WebhookWithSecret },
  },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await service.rotateWebhookSecret(ctx.deps, auth, ctx.input.params.id);
  },
});

const testWebhook = defineRoute({
  method: 'post',
  path: '/webhooks/{id}/test',
  operationId: 'testWebhook',
  summary: 'Send a webhook.test event to this endpoint',
  tags,
  access: 'webhooks:manage',
  requiresActiveSubscription: true,
  idempotency: 'optional',
  request: { params: WebhookParams },
  responses: { 202: { description: 'Queued: the delivery to watch', schema: Delivery } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.status = 202;
    ctx.body = await service.sendTestEvent(ctx.deps, auth, ctx.input.params.id);
  },
});

const listDeliveries = defineRoute({
  method: 'get',
  path: '/webhooks/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  summary: 'Deliveries to this endpoint, newest first, with every attempt',
  tags,
  access: 'webhooks:manage',
  request: { params: WebhookParams, query: ListQuery },
  responses: { 200: { description: 'Deliveries', schema: DeliveryList } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await service.listDeliveries(ctx.deps, auth, ctx.input.params.id, ctx.input.query);
  },
});

const retryDelivery = defineRoute({
  method: 'post',
  path: '/webhooks/{id}/deliveries/{deliveryId}/retry',
  operationId: 'retryWebhookDelivery',
  summary: 'One more attempt now for a delivery not yet succeeded (same webhook-id)',
  tags,
  access: 'webhooks:manage',
  requiresActiveSubscription: true,
  idempotency: 'optional',
  request: { params: DeliveryParams },
  problems: ['UNPROCESSABLE'],
  responses: { 202: { description: 'Queued', schema: Delivery } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.status = 202;
    ctx.body = await service.retryDelivery(
      ctx.deps,
      auth,
      ctx.input.params.id,
      ctx.input.params.deliveryId,
    );
  },
});

export const webhooksRoutes = [
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  rotateSecret,
  testWebhook,
  listDeliveries,
  retryDelivery,
];
