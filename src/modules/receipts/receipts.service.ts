import type { AppDeps } from '../../deps.js';
import { notFound } from '../../lib/errors.js';
import type { Caller } from '../auth/caller.js';
import { getSale } from '../sales/sales-admin.service.js';
import { renderReceiptEscPos, renderReceiptText } from './receipt-render.js';
import { saleReceipt, type ReceiptDocument } from './receipt.model.js';
import type { PaperWidth } from './receipt-layout.js';
import { findSaleReceiptContext } from './receipts.repo.js';

export type ReceiptFormat = 'json' | 'text' | 'escpos';

export type RenderedReceipt =
  | { type: 'application/json'; body: ReceiptDocument }
  | { type: 'text/plain; charset=utf-8'; body: string }
  | { type: 'application/octet-stream'; body: Buffer };

/** A receipt in the asked format; who may read the sale may read its receipt (and no one else). */
export function renderReceipt(
  receipt: ReceiptDocument,
  format: ReceiptFormat,
  width: PaperWidth,
): RenderedReceipt {
  if (format === 'text') {
    return { type: 'text/plain; charset=utf-8', body: renderReceiptText(receipt, width) };
  }
  if (format === 'escpos') {
    return {
      type: 'application/octet-stream',
      body: Buffer.from(renderReceiptEscPos(receipt, width)),
    };
  }
  return { type: 'application/json', body: receipt };
}

export async function getSaleReceipt(
  deps: AppDeps,
  caller: Caller,
  saleId: string,
): Promise<ReceiptDocument> {
  // getSale applies the read rules (own sales for a cashier, the caller's locations).
  const sale = await getSale(deps, caller, saleId);
  const context = await findSaleReceiptContext(
    deps.db,
    caller.businessId,
    sale.id,
    caller.businessTimezone,
  );
  if (!context) throw notFound('Sale');
  return saleReceipt(sale, context);
}
