import { describe, expect, it } from 'vitest';
import {
  decideSettlement,
  isQueryDue,
  queryBackoffSeconds,
  type SettlingPayment,
  type SettlingResult,
} from './payments.rules.js';

const pending: SettlingPayment = {
  status: 'pending',
  purpose: 'subscription',
  amount: 150_000,
  phoneNumber: '254712345678',
  confirmedBy: null,
  mpesaReceiptNumber: null,
};
const paid: SettlingResult = {
  outcome: 'succeeded',
  resultCode: 0,
  resultDesc: 'ok',
  amount: 150_000,
  phoneNumber: '254712345678',
  receiptNumber: 'NLJ7RT61SV',
};
const fromQuery: SettlingResult = { ...paid, amount: null, phoneNumber: null, receiptNumber: null };

describe('decideSettlement', () => {
  it('a matching success callback settles a pending subscription and activates it', () => {
    expect(decideSettlement(pending, paid, 'callback')).toEqual({
      action: 'settle',
      status: 'succeeded',
      activate: true,
      outcome: 'applied',
    });
    expect(decideSettlement({ ...pending, purpose: 'sale' }, paid, 'callback')).toMatchObject({
      status: 'succeeded',
      activate: false,
    });
  });

  it.each([
    ['amount', { amount: 150_100 }],
    ['phone', { phoneNumber: '254712345679' }],
    ['missing amount', { amount: null }],
  ])('a success callback with a different %s → needs_review, nothing activated', (_, change) => {
    expect(decideSettlement(pending, { ...paid, ...change }, 'callback')).toEqual({
      action: 'settle',
      status: 'needs_review',
      activate: false,
      outcome: 'needs_review',
    });
  });

  it('a success from the query (no amount, no receipt) is trusted', () => {
    expect(decideSettlement(pending, fromQuery, 'query')).toMatchObject({
      status: 'succeeded',
      activate: true,
    });
  });

  it.each(['cancelled', 'failed'] as const)('a %s answer settles with that status', (outcome) => {
    const result = { ...fromQuery, outcome, resultCode: 1032 };
    expect(decideSettlement(pending, result, 'callback')).toMatchObject({
      status: outcome,
      activate: false,
    });
  });

  it('nothing changes a payment that a callback already settled', () => {
    for (const status of ['succeeded', 'failed', 'cancelled', 'needs_review'] as const) {
      const settled = {
        ...pending,
        status,
        confirmedBy: 'callback' as const,
        mpesaReceiptNumber: 'X',
      };
      expect(decideSettlement(settled, paid, 'callback')).toEqual({
        action: 'ignore',
        outcome: 'duplicate',
      });
      expect(decideSettlement(settled, fromQuery, 'query').action).toBe('ignore');
    }
  });

  it('money arriving after we gave up: subscription activated, sale to review', () => {
    for (const gaveUp of [
      { status: 'expired' as const, confirmedBy: null },
      { status: 'failed' as const, confirmedBy: 'query' as const },
      { status: 'failed' as const, confirmedBy: null },
      { status: 'cancelled' as const, confirmedBy: 'query' as const },
    ]) {
      expect(decideSettlement({ ...pending, ...gaveUp }, paid, 'callback')).toEqual({
        action: 'settle',
        status: 'succeeded',
        activate: true,
        outcome: 'late_success',
      });
      expect(
        decideSettlement({ ...pending, ...gaveUp, purpose: 'sale' }, paid, 'callback'),
      ).toMatchObject({ status: 'needs_review', outcome: 'late_success_review' });
      expect(
        decideSettlement({ ...pending, ...gaveUp }, { ...paid, amount: 1 }, 'callback'),
      ).toMatchObject({ status: 'needs_review', activate: false });
      // A failure callback or a query after giving up changes nothing.
      expect(
        decideSettlement({ ...pending, ...gaveUp }, { ...paid, outcome: 'failed' }, 'callback')
          .action,
      ).toBe('ignore');
      expect(decideSettlement({ ...pending, ...gaveUp }, fromQuery, 'query').action).toBe('ignore');
    }
  });

  it('a callback after a query success only records the receipt number', () => {
    const byQuery = { ...pending, status: 'succeeded' as const, confirmedBy: 'query' as const };
    expect(decideSettlement(byQuery, paid, 'callback')).toEqual({
      action: 'record-receipt',
      outcome: 'receipt_recorded',
    });
    expect(decideSettlement(byQuery, { ...paid, amount: 5 }, 'callback').action).toBe('ignore');
  });
});

describe('query backoff', () => {
  it('waits 15, 30, 60, then at most 120 seconds between queries', () => {
    expect([0, 1, 2, 3, 4, 10].map(queryBackoffSeconds)).toEqual([15, 30, 60, 120, 120, 120]);
    const at = new Date('2026-01-01T00:00:00Z');
    const plus = (seconds: number) => new Date(at.getTime() + seconds * 1000);
    expect(isQueryDue(null, 0, at)).toBe(true);
    expect(isQueryDue(at, 1, plus(14))).toBe(false);
    expect(isQueryDue(at, 1, plus(15))).toBe(true);
    expect(isQueryDue(at, 2, plus(29))).toBe(false);
    expect(isQueryDue(at, 2, plus(30))).toBe(true);
    expect(isQueryDue(at, 9, plus(119))).toBe(false);
  });
});
