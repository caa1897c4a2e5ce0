import type { CustomerEntryType } from '../../db/schema/index.js';
import { unprocessable } from '../../lib/errors.js';

/** The largest amount on an account (cents): KES 100 million, far inside a safe integer. */
export const MAX_ACCOUNT_AMOUNT = 10_000_000_000;

/**
 * The signed amount a ledger entry carries for a positive sum of money: a credit sale adds
 * to what the customer owes; a payment, a credit refund (return) or a void takes it off.
 */
export function signedAmount(type: CustomerEntryType, money: number): number {
  return type === 'sale' ? money : -money;
}

/** What a sale puts on the customer's account: the sum of its `credit` payments. */
export function creditOf(payments: readonly { method: string; amount: number }[]): number {
  return payments.reduce(
    (sum, payment) => sum + (payment.method === 'credit' ? payment.amount : 0),
    0,
  );
}

/** Over the limit after a change (null limit = none): the sale is still recorded, an event says so. */
export function exceedsCreditLimit(balanceAfter: number, creditLimit: number | null): boolean {
  return creditLimit !== null && balanceAfter > creditLimit;
}

/** A payment on account is at most what the customer owes (else 422: there is no change on account). */
export function checkPaymentAmount(balance: number, amount: number): void {
  if (amount > balance) {
    throw unprocessable(
      `The payment of ${amount} cents is more than the ${Math.max(balance, 0)} cents the customer owes`,
      [{ path: 'amount', message: 'More than the balance', code: 'too_big' }],
    );
  }
}

/**
 * Running balances of entries appended after `balanceBefore`: each entry's `balanceAfter`.
 * The ledger rule: the last one is the balance, and balance = Σ amounts.
 */
export function runningBalances(balanceBefore: number, amounts: readonly number[]): number[] {
  let balance = balanceBefore;
  return amounts.map((amount) => (balance += amount));
}
