import type { C2bPaymentRow } from '../../db/schema/index.js';
import type { TillPayment } from './till.schemas.js';

const clip = (text: string, length: number) => text.slice(0, length);

/** A till payment (C2B receipt) as the checkout screen lists it. */
export function toTillPayment(row: C2bPaymentRow): TillPayment {
  return {
    transId: row.transId,
    amount: row.amount,
    msisdn: clip(row.msisdn, 100),
    firstName: clip(row.firstName, 100),
    billRefNumber: clip(row.billRefNumber, 100),
    transTime: row.transTime,
    status: row.salePaymentId === null && row.customerPaymentId === null ? 'unclaimed' : 'claimed',
    ...(row.saleId !== null ? { saleId: row.saleId } : {}),
    ...(row.customerPaymentId !== null ? { customerPaymentId: row.customerPaymentId } : {}),
  };
}
