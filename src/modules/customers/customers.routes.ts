import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import {
  CreateCustomerBody,
  Customer,
  CustomerListQuery,
  CustomerPage,
  CustomerParams,
  CustomerPayment,
  CustomerPaymentBody,
  Statement,
  StatementQuery,
  UpdateCustomerBody,
} from './customers.schemas.js';
import * as customers from './customers.service.js';

// No route here requires an active subscription: the debt book is facts, like sales.
const tags = ['Customers'];

const list = defineRoute({
  method: 'get',
  path: '/customers',
  operationId: 'listCustomers',
  summary: 'Search customers by name or phone (erased customers are left out)',
  tags,
  access: 'customers:read',
  request: { query: CustomerListQuery },
  responses: { 200: { description: 'A page of customers', schema: CustomerPage } },
  handler: async (ctx) => {
    ctx.body = await customers.listCustomers(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const get = defineRoute({
  method: 'get',
  path: '/customers/{id}',
  operationId: 'getCustomer',
  summary: 'Get a customer with their balance (what they owe)',
  tags,
  access: 'customers:read',
  request: { params: CustomerParams },
  responses: { 200: { description: 'The customer', schema: Customer } },
  handler: async (ctx) => {
    ctx.body = await customers.getCustomer(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

const create = defineRoute({
  method: 'post',
  path: '/customers',
  operationId: 'createCustomer',
  summary: 'Create a customer (the till may make the id offline)',
  description:
    'With `id`, idempotent: the same id and body again answers `200` with the customer as it is now; another body is `422 IDEMPOTENCY_KEY_REUSED`. `creditLimit` needs a manager or the owner (`403`).',
  tags,
  access: 'customers:write',
  request: { body: CreateCustomerBody },
  problems: ['IDEMPOTENCY_KEY_REUSED'],
  responses: {
    201: {
      description: 'Created',
      schema: Customer,
      headers: { Location: { description: '/customers/{id}' } },
    },
    200: { description: 'Already created with this id and body (a replay)', schema: Customer },
  },
  handler: async (ctx) => {
    const outcome = await customers.createCustomer(ctx.deps, requireAuth(ctx), ctx.input.body);
    ctx.status = outcome.created ? 201 : 200;
    if (outcome.created) ctx.set('Location', `/customers/${outcome.customer.id}`);
    else ctx.set('Idempotent-Replayed', 'true');
    ctx.body = outcome.customer;
  },
});

const update = defineRoute({
  method: 'patch',
  path: '/customers/{id}',
  operationId: 'updateCustomer',
  summary: "Change a customer's details (creditLimit: manager or owner)",
  tags,
  access: 'customers:write',
  request: { params: CustomerParams, body: UpdateCustomerBody },
  problems: ['UNPROCESSABLE'],
  responses: { 200: { description: 'The customer', schema: Customer } },
  handler: async (ctx) => {
    ctx.body = await customers.updateCustomer(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body,
    );
  },
});

const erase = defineRoute({
  method: 'delete',
  path: '/customers/{id}',
  operationId: 'deleteCustomer',
  summary: 'Erase a customer (Kenya Data Protection Act 2019): the person goes, the facts stay',
  description:
    'The name becomes "Deleted customer"; phone, email, KRA PIN and note are removed (also the phone on their sales and SMS log). Sales, statement entries and the balance are kept and the account can still be paid.',
  tags,
  access: 'customers:delete',
  request: { params: CustomerParams },
  responses: { 204: { description: 'Erased' } },
  handler: async (ctx) => {
    await customers.deleteCustomer(ctx.deps, requireAuth(ctx), ctx.input.params.id);
    ctx.status = 204;
  },
});

const pay = defineRoute({
  method: 'post',
  path: '/customers/{id}/payments',
  operationId: 'recordCustomerPayment',
  summary: "Record money received on a customer's account (once per clientRequestId)",
  description:
    'More than the balance is `422`. The same clientRequestId and body again answers `200` with the payment recorded; another body is `422 IDEMPOTENCY_KEY_REUSED`. Emits `customer.payment_received`.',
  tags,
  access: 'customers:payments',
  request: { params: CustomerParams, body: CustomerPaymentBody },
  problems: ['UNPROCESSABLE', 'IDEMPOTENCY_KEY_REUSED'],
  responses: {
    201: { description: 'Recorded', schema: CustomerPayment },
    200: { description: 'Already recorded (a replay)', schema: CustomerPayment },
  },
  handler: async (ctx) => {
    const outcome = await customers.recordPayment(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body,
    );
    ctx.status = outcome.created ? 201 : 200;
    if (!outcome.created) ctx.set('Idempotent-Replayed', 'true');
    ctx.body = outcome.payment;
  },
});

const statement = defineRoute({
  method: 'get',
  path: '/customers/{id}/statement',
  operationId: 'getCustomerStatement',
  summary: "A customer's statement: every change to what they owe, in order",
  tags,
  access: 'customers:read',
  request: { params: CustomerParams, query: StatementQuery },
  responses: { 200: { description: 'The statement', schema: Statement } },
  handler: async (ctx) => {
    ctx.body = await customers.customerStatement(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.query,
    );
  },
});

export const customerRoutes = [list, get, create, update, erase, pay, statement];
