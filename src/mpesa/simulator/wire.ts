import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

// Daraja's wire shapes, as the simulator answers them.

export type Json = Record<string, unknown>;

export function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function error(errorCode: string, errorMessage: string, requestId?: unknown): Json {
  return {
    requestId: typeof requestId === 'string' ? requestId : randomUUID(),
    errorCode,
    errorMessage,
  };
}

/** A JSON field as Daraja would read it: strings and numbers as text, anything else empty. */
export function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export const badRequest = (field: string) => error('400.002.02', `Bad Request - Invalid ${field}`);

/** `Body.stkCallback` as Daraja POSTs it: numbers for ResultCode, Amount, date and phone. */
export function stkCallbackBody(
  transaction: {
    merchantRequestId: string;
    checkoutRequestId: string;
    receiptNumber: string;
    phone: string;
  },
  result: { code: number; desc: string },
  paidShillings: number,
  transactionDate: string,
): Json {
  const stkCallback: Json = {
    MerchantRequestID: transaction.merchantRequestId,
    CheckoutRequestID: transaction.checkoutRequestId,
    ResultCode: result.code,
    ResultDesc: result.desc,
  };
  if (result.code === 0) {
    stkCallback.CallbackMetadata = {
      Item: [
        { Name: 'Amount', Value: paidShillings },
        { Name: 'MpesaReceiptNumber', Value: transaction.receiptNumber },
        { Name: 'Balance' },
        { Name: 'TransactionDate', Value: Number(transactionDate) },
        { Name: 'PhoneNumber', Value: Number(transaction.phone) },
      ],
    };
  }
  return stkCallback;
}
