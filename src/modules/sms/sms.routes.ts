import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import {
  CustomerIdParams,
  DeliveryReportAck,
  DeliveryReportBody,
  DeliveryReportParams,
  ReceiptSmsBody,
  SaleIdParams,
  SmsListQuery,
  SmsMessage,
  SmsPage,
} from './sms.schemas.js';
import * as sms from './sms.service.js';

const tags = ['SMS'];

const receipt = defineRoute({
  method: 'post',
  path: '/sales/{id}/receipt/sms',
  operationId: 'sendSaleReceiptSms',
  summary: "Send the sale's receipt by SMS (to `phone`, else the customer's phone)",
  description:
    'Queued and sent by the worker through Africa’s Talking; follow it in `GET /sms`. No phone number to send to → `422`.',
  tags,
  access: 'sms:receipt',
  requiresActiveSubscription: true,
  request: { params: SaleIdParams, body: ReceiptSmsBody },
  problems: ['UNPROCESSABLE'],
  responses: { 202: { description: 'Queued', schema: SmsMessage } },
  handler: async (ctx) => {
    ctx.status = 202;
    ctx.body = await sms.sendReceiptSms(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body.phone,
    );
  },
});

const remind = defineRoute({
  method: 'post',
  path: '/customers/{id}/remind',
  operationId: 'remindCustomer',
  summary: 'Send the customer a balance reminder by SMS',
  description: 'No phone number, an erased customer or nothing owed → `422`.',
  tags,
  access: 'sms:remind',
  requiresActiveSubscription: true,
  request: { params: CustomerIdParams },
  problems: ['UNPROCESSABLE'],
  responses: { 202: { description: 'Queued', schema: SmsMessage } },
  handler: async (ctx) => {
    ctx.status = 202;
    ctx.body = await sms.remindCustomer(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

const list = defineRoute({
  method: 'get',
  path: '/sms',
  operationId: 'listSms',
  summary: 'The SMS the business sent, newest first, with their delivery status',
  tags,
  access: 'sms:read',
  request: { query: SmsListQuery },
  responses: { 200: { description: 'A page of SMS', schema: SmsPage } },
  handler: async (ctx) => {
    ctx.body = await sms.listSms(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const deliveryReport = defineRoute({
  method: 'post',
  path: '/sms/delivery-reports/{token}',
  operationId: 'receiveSmsDeliveryReport',
  summary: 'Africa’s Talking’s delivery report callback (the token is secret per deployment)',
  description:
    'The URL set in Africa’s Talking’s dashboard: `PUBLIC_URL/sms/delivery-reports/<AT_DELIVERY_REPORT_TOKEN>`. Form fields `id`, `status`, `phoneNumber`, `failureReason`…; a wrong token → `404`, nothing read.',
  tags,
  access: 'public',
  bodyType: 'form',
  bodyLimit: '16kb',
  request: { params: DeliveryReportParams, body: DeliveryReportBody },
  problems: ['UNPROCESSABLE'],
  responses: { 200: { description: 'Recorded', schema: DeliveryReportAck } },
  handler: async (ctx) => {
    ctx.body = await sms.receiveDeliveryReport(ctx.deps, ctx.input.params.token, ctx.input.body);
  },
});

export const smsRoutes = [receipt, remind, list, deliveryReport];
