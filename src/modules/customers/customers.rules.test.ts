import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import {
  checkPaymentAmount,
  creditOf,
  exceedsCreditLimit,
  MAX_ACCOUNT_AMOUNT,
  runningBalances,
  signedAmount,
} from './customers.rules.js';

const money = fc.integer({ min: 1, max: MAX_ACCOUNT_AMOUNT });
const types = fc.constantFrom('sale', 'payment', 'return', 'void' as const);

describe('customer ledger rules', () => {
  it('running balances end at the balance, which is the sum of the entries', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(types, money), { maxLength: 50 }), (entries) => {
        const amounts = entries.map(([type, amount]) => signedAmount(type, amount));
        const balances = runningBalances(0, amounts);
        const sum = amounts.reduce((a, b) => a + b, 0);
        expect(balances.at(-1) ?? 0).toBe(sum);
        balances.forEach((balance, index) =>
          expect(balance - (balances[index - 1] ?? 0)).toBe(amounts[index]),
        );
      }),
    );
  });

  it('only a sale adds to what the customer owes', () => {
    fc.assert(
      fc.property(types, money, (type, amount) => {
        expect(signedAmount(type, amount) > 0).toBe(type === 'sale');
        expect(Math.abs(signedAmount(type, amount))).toBe(amount);
      }),
    );
  });

  it('credit is the sum of the credit payments only', () => {
    const method = fc.constantFrom('cash', 'mpesa', 'card', 'other', 'credit');
    fc.assert(
      fc.property(fc.array(fc.record({ method, amount: money }), { maxLength: 10 }), (payments) => {
        const expected = payments
          .filter((payment) => payment.method === 'credit')
          .reduce((a, p) => a + p.amount, 0);
        expect(creditOf(payments)).toBe(expected);
      }),
    );
  });

  it('over the limit only when a limit is set and the balance passes it', () => {
    expect(exceedsCreditLimit(10, null)).toBe(false);
    expect(exceedsCreditLimit(10, 10)).toBe(false);
    expect(exceedsCreditLimit(11, 10)).toBe(true);
    expect(exceedsCreditLimit(1, 0)).toBe(true);
  });

  it('a payment may not exceed the balance', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_ACCOUNT_AMOUNT }), money, (balance, amount) => {
        if (amount <= balance) expect(() => checkPaymentAmount(balance, amount)).not.toThrow();
        else expect(() => checkPaymentAmount(balance, amount)).toThrow(AppError);
      }),
    );
  });
});
