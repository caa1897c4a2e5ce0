import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import * as service from './reports.service.js';
import {
  CreateExportBody,
  ExportParams,
  ReportExport,
  SalesSummary,
  SalesSummaryQuery,
} from './reports.schemas.js';

const tags = ['Reports'];

const getSalesSummary = defineRoute({
  method: 'get',
  path: '/reports/sales-summary',
  operationId: 'getSalesSummary',
  summary: 'Sales totals for a range of days, grouped by day, product, cashier or payment method',
  description:
    'Days are calendar days in the business timezone. Voided sales are excluded from every ' +
    'figure and counted in totals.voidedCount. Money is integer cents. At most 366 days.',
  tags,
  access: 'reports:read',
  request: { query: SalesSummaryQuery },
  problems: ['NOT_FOUND'],
  responses: { 200: { description: 'The summary', schema: SalesSummary } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await service.getSalesSummary(ctx.deps, auth, ctx.input.query);
  },
});

const createExport = defineRoute({
  method: 'post',
  path: '/reports/exports',
  operationId: 'createReportExport',
  summary: 'Start a CSV export of the sales (one row per sale line); poll it until done',
  description:
    'A worker streams the file into storage. The CSV has a header and the columns saleNumber, ' +
    'receiptNumber, occurredAt (ISO 8601 in the business timezone, with its offset), status, ' +
    'cashier, productName, sku, quantity, unitPrice, discount (the line discount plus its share ' +
    'of the sale discount), tax, lineTotal (charged for the line after both discounts), ' +
    'paymentMethods (`;`-separated), returnNumber. Money is decimal shillings with two decimals (`150.00`). ' +
    'Voided sales are included with status `voided`. Returns (credit notes) dated in the range follow the sales, ' +
    'one row per returned line with status `returned`, the return’s date, cashier and location, the sale’s number, ' +
    'negative quantity, tax and lineTotal, the refund methods and the return’s number: Σ lineTotal is the net.',
  tags,
  access: 'reports:read',
  requiresActiveSubscription: true,
  idempotency: 'optional',
  request: { body: CreateExportBody },
  problems: ['NOT_FOUND'],
  responses: {
    202: {
      description: 'Queued',
      schema: ReportExport,
      headers: { Location: { description: 'Poll this export' } },
    },
  },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    const created = await service.requestExport(ctx.deps, auth, ctx.input.body);
    ctx.status = 202;
    ctx.set('Location', `/reports/exports/${created.id}`);
    ctx.body = created;
  },
});

const getExport = defineRoute({
  method: 'get',
  path: '/reports/exports/{id}',
  operationId: 'getReportExport',
  summary: 'An export: its status and, once done, a short-lived download link',
  tags,
  access: 'reports:read',
  request: { params: ExportParams },
  responses: { 200: { description: 'The export', schema: ReportExport } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await service.getExport(ctx.deps, auth, ctx.input.params.id);
  },
});

export const reportsRoutes = [getSalesSummary, createExport, getExport];
