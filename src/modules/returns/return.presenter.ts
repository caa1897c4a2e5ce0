import type { ReturnLineRow, ReturnRefundRow, ReturnRow } from '../../db/schema/index.js';
import type { EtimsBlock } from '../etims/etims.schemas.js';
import type { Return } from './returns.schemas.js';

type PresentedLine = Pick<
  ReturnLineRow,
  | 'id'
  | 'saleLineId'
  | 'productId'
  | 'name'
  | 'quantity'
  | 'unitPrice'
  | 'tax'
  | 'total'
  | 'restocked'
>;
type PresentedRefund = Pick<ReturnRefundRow, 'method' | 'amount' | 'reference'>;

/**
 * The Return resource (API.md "Returns (credit notes)") from its rows: the one presenter of
 * reads, of a new return and of the `return.created` event (receipts and credit notes reuse it).
 */
export function toReturn(
  row: ReturnRow,
  lines: PresentedLine[],
  refunds: PresentedRefund[],
  etims: EtimsBlock | null,
): Return {
  return {
    id: row.id,
    number: row.number,
    clientRequestId: row.clientRequestId,
    saleId: row.saleId,
    occurredAt: row.occurredAt.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    cashierId: row.cashierId,
    locationId: row.locationId,
    shiftId: row.shiftId,
    reason: row.reason,
    lines: lines.map((line) => ({
      id: line.id,
      saleLineId: line.saleLineId,
      productId: line.productId,
      name: line.name,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      tax: line.tax,
      total: line.total,
      restocked: line.restocked,
    })),
    subtotal: row.subtotal,
    tax: row.tax,
    total: row.total,
    refunds: refunds.map((refund) => ({
      method: refund.method,
      amount: refund.amount,
      reference: refund.reference,
    })),
    etims,
  };
}
