import type { AppDeps } from '../../deps.js';
import { notFound } from '../../lib/errors.js';
import type { Caller } from '../auth/caller.js';
import { getReturn } from '../returns/returns.service.js';
import { getSale } from '../sales/sales-admin.service.js';
import { renderReceiptEscPos, renderReceiptText } from './receipt-render.js';
import { returnReceipt, saleReceipt, type ReceiptDocument } from './receipt.model.js';
import type { PaperWidth } from './receipt-layout.js';
import { findReturnReceiptContext, findSaleReceiptContext } from './receipts.repo.js';

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

export async function getReturnReceipt(
  deps: AppDeps,
  caller: Caller,
  returnId: string,
): Promise<ReceiptDocument> {
  // getReturn applies the read rules (the caller's locations).
  const ret = await getReturn(deps, caller, returnId);
  const context = await findReturnReceiptContext(
    deps.db,
    caller.businessId,
    ret.id,
    caller.businessTimezone,
  );
  if (!context) throw notFound('Return');
  return returnReceipt(ret, context);
}
