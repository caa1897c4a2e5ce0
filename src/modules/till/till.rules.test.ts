import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideClaim, namedTransId, refusedUrlWord } from './till.rules.js';

const payment = { id: 'p1', saleId: 's1', amount: 50_000 };

describe('decideClaim', () => {
  it('awaits a receipt not received yet', () => {
    expect(decideClaim(payment, null)).toEqual({ action: 'await' });
  });
  it('claims an unclaimed receipt of the same amount', () => {
    expect(decideClaim(payment, { amount: 50_000, salePaymentId: null })).toEqual({
      action: 'claim',
      needsReview: false,
    });
  });
  it('claims an unclaimed receipt of another amount, flagged', () => {
    expect(decideClaim(payment, { amount: 49_900, salePaymentId: null })).toEqual({
      action: 'claim',
      needsReview: true,
      reason: 'amount_mismatch',
    });
  });
  it('does nothing when this payment already holds it', () => {
    expect(decideClaim(payment, { amount: 1, salePaymentId: 'p1' })).toEqual({ action: 'none' });
  });
  it('one receipt pays at most one sale: any other holder flags the payment', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.uuid(), (amount, receiptAmount, holder) => {
        const decision = decideClaim(
          { ...payment, amount },
          { amount: receiptAmount, salePaymentId: holder },
        );
        expect(decision).toEqual({ action: 'flag', reason: 'already_claimed' });
      }),
    );
  });
  it('a claim is unflagged exactly when the amounts agree', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (amount, receiptAmount) => {
        const decision = decideClaim(
          { ...payment, amount },
          { amount: receiptAmount, salePaymentId: null },
        );
        expect(decision.action).toBe('claim');
        expect(decision.action === 'claim' && decision.needsReview).toBe(amount !== receiptAmount);
      }),
    );
  });
});

describe('namedTransId', () => {
  it('reads an M-Pesa reference as a receipt number, upper-cased', () => {
    expect(namedTransId({ method: 'mpesa', reference: ' ta12bc34de ' })).toBe('TA12BC34DE');
  });
  it.each([
    ['cash', 'TA12BC34DE'],
    ['mpesa', null],
    ['mpesa', 'short'],
    ['mpesa', 'has space 123'],
  ])('ignores %s / %s', (method, reference) => {
    expect(namedTransId({ method, reference })).toBeNull();
  });
});

describe('refusedUrlWord', () => {
  it.each([
    'https://MPESA.example.com',
    'https://x.co/Safaricom',
    'https://x.co/EXEC',
    'https://cmd.x.co',
    'https://x.co/mySQL',
    'https://x.co/Query',
  ])('refuses %s', (url) => expect(refusedUrlWord(url)).toBeDefined());
  it('accepts a plain URL', () => {
    expect(
      refusedUrlWord('https://pos.example.co.ke/bv-payments/callbacks/c2b/abc/confirmation'),
    ).toBeUndefined();
  });
});
