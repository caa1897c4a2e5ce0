import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import { z } from '../../lib/zod.js';
import { SaleParams } from '../sales/sales.schemas.js';
import { Receipt, ReceiptQuery } from './receipts.schemas.js';
import { getSaleReceipt, renderReceipt } from './receipts.service.js';

const PRINTED_FORMS = {
  'text/plain': z
    .string()
    .max(20_000)
    .describe('`format=text`: fixed-width rows (32 or 48 columns), UTF-8'),
  'application/octet-stream': z
    .string()
    .max(100_000)
    .openapi({ type: 'string', format: 'binary', maxLength: 100_000 })
    .describe('`format=escpos`: ESC/POS commands for a thermal printer'),
};

const saleReceipt = defineRoute({
  method: 'get',
  path: '/sales/{id}/receipt',
  operationId: 'getSaleReceipt',
  summary: 'The printable receipt of a sale: JSON, fixed-width text or ESC/POS bytes',
  description:
    'The business and location, sale and receipt numbers, lines, discounts, VAT per rate, total, payments and change, the cashier, and the KRA eTIMS block with its QR code once signed. `width` is the paper (58 mm: 32 columns, 80 mm: 48). Who may read the sale may read its receipt.',
  tags: ['Sales'],
  access: 'sales:read-own',
  request: { params: SaleParams, query: ReceiptQuery },
  responses: {
    200: { description: 'The receipt', schema: Receipt, alternatives: PRINTED_FORMS },
  },
  handler: async (ctx) => {
    const receipt = await getSaleReceipt(ctx.deps, requireAuth(ctx), ctx.input.params.id);
    const rendered = renderReceipt(receipt, ctx.input.query.format, ctx.input.query.width);
    ctx.type = rendered.type;
    if (rendered.type === 'application/octet-stream') {
      ctx.set('Content-Disposition', `inline; filename="receipt-${receipt.number}.bin"`);
    }
    ctx.body = rendered.body;
  },
});

export const receiptRoutes = [saleReceipt];
