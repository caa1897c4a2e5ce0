import { defineRoute } from '../../http/route.js';
import { requireAuth } from '../../http/context.js';
import {
  CallbackAck,
  CallbackBody,
  CallbackParams,
  Payment,
  PaymentParams,
  SaleStkPushBody,
  SubscriptionStkPushBody,
} from './payments.schemas.js';
import {
  getPayment,
  receiveCallback,
  startSalePayment,
  startSubscriptionPayment,
} from './payments.service.js';

const TAGS = ['M-Pesa payments'];
const DARAJA_PROBLEMS = ['UNPROCESSABLE', 'BAD_GATEWAY', 'SERVICE_UNAVAILABLE'] as const;
const accepted = {
  description:
    'M-Pesa accepted the request and prompted the phone; poll GET /bv-payments/{id} for the outcome',
  schema: Payment,
  headers: { Location: { description: 'The payment’s URL' } },
};

const subscriptionStkPush = defineRoute({
  method: 'post',
  path: '/bv-payments/subscription-stk-push',
  operationId: 'startSubscriptionPayment',
  summary: 'Pay for a subscription plan with an M-Pesa prompt on the owner’s phone',
  description:
    'Amount from the plan price. When the payment succeeds the period is extended by 30 or 365 days from the later of now and the current end, once. Never refused for an expired subscription.',
  tags: TAGS,
  access: 'billing:manage',
  idempotency: 'required',
  request: { body: SubscriptionStkPushBody },
  problems: [...DARAJA_PROBLEMS],
  responses: { 202: accepted },
  handler: async (ctx) => {
    const payment = await startSubscriptionPayment(ctx.deps, requireAuth(ctx), ctx.input.body);
    ctx.status = 202;
    ctx.set('Location', `/bv-payments/${payment.id}`);
    ctx.body = payment;
  },
});

const saleStkPush = defineRoute({
  method: 'post',
  path: '/bv-payments/sale-stk-push',
  operationId: 'startSalePayment',
  summary: 'Prompt a customer’s phone to pay at the till',
  description:
    'Once the payment succeeds the POS records the sale with `method: "mpesa"` and the receipt code. `amount` must be whole shillings (a multiple of 100 cents).',
  tags: TAGS,
  access: 'payments:sale',
  idempotency: 'required',
  request: { body: SaleStkPushBody },
  problems: [...DARAJA_PROBLEMS],
  responses: { 202: accepted },
  handler: async (ctx) => {
    const payment = await startSalePayment(ctx.deps, requireAuth(ctx), ctx.input.body);
    ctx.status = 202;
    ctx.set('Location', `/bv-payments/${payment.id}`);
    ctx.body = payment;
  },
});

const getPaymentRoute = defineRoute({
  method: 'get',
  path: '/bv-payments/{id}',
  operationId: 'getPayment',
  summary: 'A payment and its outcome',
  tags: TAGS,
  access: 'payments:sale',
  request: { params: PaymentParams },
  responses: { 200: { description: 'The payment', schema: Payment } },
  handler: async (ctx) => {
    ctx.body = await getPayment(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

const stkCallback = (path: string, operationId: string, description: string) =>
  defineRoute({
    method: 'post',
    path,
    operationId,
    summary: 'Safaricom’s STK callback (the URL is secret per payment)',
    description: `Stored raw, then acknowledged at once; a worker applies it. Unknown token → 404 and nothing stored. Callers outside MPESA_CALLBACK_ALLOWLIST (when set) → 403.${description}`,
    tags: TAGS,
    access: 'public',
    bodyLimit: '64kb',
    request: { params: CallbackParams, body: CallbackBody },
    problems: ['FORBIDDEN'],
    responses: { 200: { description: 'Stored; Daraja need not retry', schema: CallbackAck } },
    handler: async (ctx) => {
      await receiveCallback(ctx.deps, {
        token: ctx.input.params.token,
        payload: ctx.input.body,
        sourceIp: ctx.ip,
      });
      ctx.body = { ResultCode: 0, ResultDesc: 'Accepted' };
    },
  });

// Daraja refuses callback URLs containing "mpesa" (and safaricom, exe, exec, cmd, sql,
// query): new payments are called back on the first path; the second keeps answering for
// payments created before the move.
const stkCallbackRoute = stkCallback(
  '/bv-payments/callbacks/stk/{token}',
  'receiveStkCallback',
  '',
);
const legacyStkCallbackRoute = stkCallback(
  '/bv-payments/mpesa/callback/{token}',
  'receiveMpesaCallback',
  ' The URL of payments created before the STK callback moved to /bv-payments/callbacks/stk/{token}.',
);

export const paymentRoutes = [
  subscriptionStkPush,
  saleStkPush,
  getPaymentRoute,
  stkCallbackRoute,
  legacyStkCallbackRoute,
];
