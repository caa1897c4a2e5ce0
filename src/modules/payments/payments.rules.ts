import type { PaymentStatus } from '../../db/schema/index.js';
import type { FinalResult } from '../../mpesa/provider.js';

export type SettlementSource = 'callback' | 'query';

export interface SettlingPayment {
  status: PaymentStatus;
  purpose: 'subscription' | 'sale';
  amount: number;
  phoneNumber: string;
  confirmedBy: 'callback' | 'query' | null;
  mpesaReceiptNumber: string | null;
}

export interface SettlingResult extends FinalResult {
  /** What the network says was paid and by whom; null when it did not say (query). */
  amount: number | null;
  phoneNumber: string | null;
  receiptNumber: string | null;
}

export type Decision =
  | { action: 'ignore'; outcome: 'duplicate' }
  | { action: 'record-receipt'; outcome: 'receipt_recorded' }
  | {
      action: 'settle';
      status: Exclude<PaymentStatus, 'pending' | 'expired'>;
      /** Extend the subscription and send the receipt (succeeded subscription payments). */
      activate: boolean;
      outcome: 'applied' | 'needs_review' | 'late_success' | 'late_success_review';
    };

/**
 * What a final answer does to a payment. Only pending payments settle normally, so a
 * replayed callback or a query after the callback changes nothing. The one exception is
 * money that arrives late: a success callback (it carries a receipt number) for a payment
 * we had given up on — expired, or failed/cancelled on the query's or the initiation's word
 * rather than a callback's. Money must not be lost: a subscription is then activated (the
 * owner paid for it), while a sale goes to needs_review, because the till has moved on
 * (the customer may have paid another way) and a person must refund or attach it.
 */
export function decideSettlement(
  payment: SettlingPayment,
  result: SettlingResult,
  source: SettlementSource,
): Decision {
  // A query success carries no amount; only callbacks are cross-checked.
  const matches =
    source === 'query' ||
    (result.amount === payment.amount && result.phoneNumber === payment.phoneNumber);

  if (payment.status === 'pending') {
    if (result.outcome === 'succeeded') {
      return matches
        ? {
            action: 'settle',
            status: 'succeeded',
            activate: payment.purpose === 'subscription',
            outcome: 'applied',
          }
        : { action: 'settle', status: 'needs_review', activate: false, outcome: 'needs_review' };
    }
    return { action: 'settle', status: result.outcome, activate: false, outcome: 'applied' };
  }

  const moneyArrived =
    source === 'callback' && result.outcome === 'succeeded' && result.receiptNumber !== null;
  if (!moneyArrived) return { action: 'ignore', outcome: 'duplicate' };

  const givenUp =
    payment.status === 'expired' ||
    ((payment.status === 'failed' || payment.status === 'cancelled') &&
      payment.confirmedBy !== 'callback');
  if (givenUp) {
    if (!matches)
      return { action: 'settle', status: 'needs_review', activate: false, outcome: 'needs_review' };
    return payment.purpose === 'subscription'
      ? { action: 'settle', status: 'succeeded', activate: true, outcome: 'late_success' }
      : {
          action: 'settle',
          status: 'needs_review',
          activate: false,
          outcome: 'late_success_review',
        };
  }
  // Confirmed by the query first: the callback brings the receipt number, nothing else.
  if (
    payment.status === 'succeeded' &&
    payment.confirmedBy === 'query' &&
    payment.mpesaReceiptNumber === null &&
    matches
  ) {
    return { action: 'record-receipt', outcome: 'receipt_recorded' };
  }
  return { action: 'ignore', outcome: 'duplicate' };
}

/** Seconds to wait after a query that found the payment still pending: 15, 30, 60, then 120. */
export function queryBackoffSeconds(attempts: number): number {
  return Math.min(15 * 2 ** Math.max(0, attempts), 120);
}

/** Whether a pending payment is due for another status query. */
export function isQueryDue(lastQueriedAt: Date | null, attempts: number, now: Date): boolean {
  if (lastQueriedAt === null) return true;
  return now.getTime() - lastQueriedAt.getTime() >= queryBackoffSeconds(attempts - 1) * 1000;
}
