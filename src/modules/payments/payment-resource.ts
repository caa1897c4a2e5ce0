import { PAYMENT_TEXT_MAX, type Payment } from './payments.schemas.js';
import type { PaymentRow } from './payments.repo.js';

/** The Payment resource as the API (and the payment.* events) present it. */
export function toPaymentResource(row: PaymentRow): Payment {
  return {
    id: row.id,
    purpose: row.purpose,
    status: row.status,
    amount: row.amount,
    phoneNumber: row.phoneNumber,
    checkoutRequestId: clip(row.checkoutRequestId, PAYMENT_TEXT_MAX.checkoutRequestId),
    customerMessage: clip(row.customerMessage, PAYMENT_TEXT_MAX.customerMessage),
    ...(row.mpesaReceiptNumber !== null
      ? { mpesaReceiptNumber: clip(row.mpesaReceiptNumber, PAYMENT_TEXT_MAX.mpesaReceiptNumber) }
      : {}),
    ...(row.resultCode !== null ? { resultCode: row.resultCode } : {}),
    ...(row.resultDesc !== null
      ? { resultDesc: clip(row.resultDesc, PAYMENT_TEXT_MAX.resultDesc) }
      : {}),
    createdAt: row.createdAt.toISOString(),
    ...(row.completedAt !== null ? { completedAt: row.completedAt.toISOString() } : {}),
  };
}

// Daraja's texts are stored as received (the raw callback is evidence); what the API shows
// of them is bounded like every other field of the document.
function clip<T extends string | null>(text: T, length: number): T {
  return (text !== null && text.length > length ? text.slice(0, length) : text) as T;
}
