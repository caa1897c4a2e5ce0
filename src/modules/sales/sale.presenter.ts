import type { SaleLineRow, SalePaymentRow, SaleRow } from '../../db/schema/index.js';
import type { Sale } from './sales.schemas.js';

type PresentedLine = Pick<
  SaleLineRow,
  | 'id'
  | 'productId'
  | 'name'
  | 'sku'
  | 'quantity'
  | 'unitPrice'
  | 'catalogPrice'
  | 'discount'
  | 'tax'
  | 'total'
>;
type PresentedPayment = Pick<SalePaymentRow, 'method' | 'amount' | 'reference'>;

/** The Sale resource (API.md) from its rows: the one presenter of reads and of a new sale. */
export function toSale(row: SaleRow, lines: PresentedLine[], payments: PresentedPayment[]): Sale {
  return {
    id: row.id,
    number: row.number,
    receiptNumber: row.receiptNumber,
    clientRequestId: row.clientRequestId,
    status: row.status,
    occurredAt: row.occurredAt.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    cashierId: row.cashierId,
    locationId: row.locationId,
    shiftId: row.shiftId,
    subtotal: row.subtotal,
    discount: row.discount,
    tax: row.tax,
    total: row.total,
    change: row.change,
    lines: lines.map((line) => ({
      id: line.id,
      productId: line.productId,
      name: line.name,
      sku: line.sku,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      catalogPrice: line.catalogPrice,
      discount: line.discount,
      tax: line.tax,
      total: line.total,
    })),
    payments: payments.map((payment) => ({
      method: payment.method,
      amount: payment.amount,
      reference: payment.reference,
    })),
    customerPhone: row.customerPhone,
    customerId: row.customerId,
    note: row.note,
    voidedAt: row.voidedAt ? row.voidedAt.toISOString() : null,
    voidReason: row.voidReason,
  };
}
