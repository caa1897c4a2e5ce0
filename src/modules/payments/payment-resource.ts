import type { Payment } from './payments.schemas.js';
import type { PaymentRow } from './payments.repo.js';

/** The Payment resource as the API (and the payment.* events) present it. */
export function toPaymentResource(row: PaymentRow): Payment {
  return {
    id: row.id,
    purpose: row.purpose,
    status: row.status,
    amount: row.amount,
    phoneNumber: row.phoneNumber,
    checkoutRequestId: row.checkoutRequestId,
    customerMessage: row.customerMessage,
    ...(row.mpesaReceiptNumber !== null ? { mpesaReceiptNumber: row.mpesaReceiptNumber } : {}),
    ...(row.resultCode !== null ? { resultCode: row.resultCode } : {}),
    ...(row.resultDesc !== null ? { resultDesc: row.resultDesc } : {}),
    createdAt: row.createdAt.toISOString(),
    ...(row.completedAt !== null ? { completedAt: row.completedAt.toISOString() } : {}),
  };
}
