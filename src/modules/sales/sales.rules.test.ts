import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import {
  allocateByLargestRemainder,
  checkClientTotal,
  checkOccurredAt,
  computeSaleAmounts,
  containedTax,
  lineGross,
  roundDiv,
  settlePayments,
  type LineInput,
} from './sales.rules.js';

const quantityArb = fc
  .integer({ min: 1, max: 1_000_000_000 })
  .map((thousandths) => thousandths / 1000);
const lineArb: fc.Arbitrary<LineInput> = fc
  .record({
    quantity: fc.oneof(fc.integer({ min: 1, max: 50 }), quantityArb),
    unitPrice: fc.integer({ min: 0, max: 5_000_000 }),
    taxRate: fc.constantFrom(0, 800, 1600, 1000, 10_000),
    discountFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ discountFraction, ...line }) => ({
    ...line,
    discount: Math.floor(Number(lineGross(line.quantity, line.unitPrice)) * discountFraction),
  }));
const saleArb = fc
  .record({
    lines: fc.array(lineArb, { minLength: 1, maxLength: 30 }),
    discountFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .filter(({ lines }) =>
    lines.every((line) => Number(lineGross(line.quantity, line.unitPrice)) < 1e12),
  );

function saleDiscountFor(lines: LineInput[], fraction: number): number {
  const subtotal = lines.reduce(
    (sum, line) => sum + Number(lineGross(line.quantity, line.unitPrice)) - line.discount,
    0,
  );
  return Math.floor(subtotal * fraction);
}

function errorOf(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('rounding', () => {
  it('rounds half away from zero', () => {
    expect(roundDiv(5n, 10n)).toBe(1n);
    expect(roundDiv(4n, 10n)).toBe(0n);
    expect(roundDiv(15n, 10n)).toBe(2n);
    expect(roundDiv(-15n, 10n)).toBe(-2n);
    expect(lineGross(0.5, 101)).toBe(51n); // 50.5 → 51
    expect(lineGross(0.333, 100)).toBe(33n); // 33.3 → 33
    expect(lineGross(1.5, 3)).toBe(5n); // 4.5 → 5
  });

  it('computes contained VAT like API.md: round(net × rate / (10000 + rate))', () => {
    expect(containedTax(11_600n, 1600)).toBe(1_600n);
    expect(containedTax(100n, 1600)).toBe(14n); // 13.79 → 14
    expect(containedTax(1_000n, 0)).toBe(0n);
  });
});

describe('computeSaleAmounts', () => {
  it('works an example by hand', () => {
    const amounts = computeSaleAmounts(
      [
        { quantity: 2, unitPrice: 5_000, discount: 0, taxRate: 1600 }, // 10,000
        { quantity: 0.5, unitPrice: 999, discount: 100, taxRate: 0 }, // 500 − 100 = 400
      ],
      1_040,
    );
    // 1,040 over 10,000 : 400 → exactly 1,000 and 40.
    expect(amounts.lines.map((line) => line.saleDiscountShare)).toEqual([1_000, 40]);
    expect(amounts.subtotal).toBe(10_400);
    expect(amounts.total).toBe(9_360);
    expect(amounts.lines[0]!.tax).toBe(1_241); // 9,000 × 1600 / 11600 = 1241.4
    expect(amounts.tax).toBe(1_241);
  });

  it('total = Σ line totals − discount; tax never exceeds the total; shares sum to the discount', () => {
    fc.assert(
      fc.property(saleArb, ({ lines, discountFraction }) => {
        const discount = saleDiscountFor(lines, discountFraction);
        const amounts = computeSaleAmounts(lines, discount);
        const lineTotals = amounts.lines.reduce((sum, line) => sum + line.total, 0);
        expect(amounts.subtotal).toBe(lineTotals);
        expect(amounts.total).toBe(lineTotals - discount);
        expect(amounts.lines.reduce((sum, line) => sum + line.saleDiscountShare, 0)).toBe(discount);
        expect(amounts.tax).toBe(amounts.lines.reduce((sum, line) => sum + line.tax, 0));
        expect(amounts.tax).toBeLessThanOrEqual(amounts.total);
        expect(amounts.tax).toBeGreaterThanOrEqual(0);
        for (const [index, line] of amounts.lines.entries()) {
          expect(line.total).toBe(line.gross - lines[index]!.discount);
          expect(line.saleDiscountShare).toBeGreaterThanOrEqual(0);
          expect(line.saleDiscountShare).toBeLessThanOrEqual(line.total);
          // The contained tax is at most the net (it equals it only at a 100% rate, half of it).
          expect(line.tax).toBeLessThanOrEqual(line.total - line.saleDiscountShare);
        }
      }),
    );
  });

  it('spreads the discount in proportion: each share is its exact share rounded down or up', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (weights, fraction) => {
          const total = weights.reduce((sum, weight) => sum + weight, 0n);
          const amount = BigInt(Math.floor(Number(total) * fraction));
          const shares = allocateByLargestRemainder(amount > total ? total : amount, weights);
          const target = amount > total ? total : amount;
          expect(shares.reduce((sum, share) => sum + share, 0n)).toBe(target);
          shares.forEach((share, index) => {
            if (total === 0n) return expect(share).toBe(0n);
            const floor = (target * weights[index]!) / total;
            expect(share === floor || share === floor + 1n).toBe(true);
          });
        },
      ),
    );
  });

  it('is deterministic (a replay computes the same receipt)', () => {
    fc.assert(
      fc.property(saleArb, ({ lines, discountFraction }) => {
        const discount = saleDiscountFor(lines, discountFraction);
        expect(computeSaleAmounts(lines, discount)).toEqual(computeSaleAmounts(lines, discount));
      }),
    );
  });

  it('refuses a line discount above the line and a sale discount above the subtotal', () => {
    const line = { quantity: 1, unitPrice: 100, discount: 101, taxRate: 0 };
    expect(errorOf(() => computeSaleAmounts([line], 0))).toMatchObject({
      code: 'UNPROCESSABLE',
      errors: [{ path: 'lines.0.discount' }],
    });
    expect(errorOf(() => computeSaleAmounts([{ ...line, discount: 0 }], 101))).toMatchObject({
      code: 'UNPROCESSABLE',
      errors: [{ path: 'discount' }],
    });
    expect(computeSaleAmounts([{ ...line, discount: 100 }], 0).total).toBe(0);
  });

  it('refuses sales beyond any real amount', () => {
    const line = { quantity: 1_000_000, unitPrice: 100_000_000, discount: 0, taxRate: 0 };
    expect(errorOf(() => computeSaleAmounts([line], 0)).code).toBe('UNPROCESSABLE');
  });
});

describe('checkClientTotal', () => {
  it('accepts an absent or equal total and refuses another with TOTALS_MISMATCH', () => {
    expect(() => checkClientTotal(100, undefined)).not.toThrow();
    expect(() => checkClientTotal(100, 100)).not.toThrow();
    expect(errorOf(() => checkClientTotal(100, 99)).code).toBe('TOTALS_MISMATCH');
  });
});

describe('settlePayments', () => {
  it('gives change only for cash beyond the total', () => {
    expect(settlePayments(1_000, [{ method: 'cash', amount: 1_500 }])).toEqual({ change: 500 });
    expect(
      settlePayments(1_000, [
        { method: 'cash', amount: 500 },
        { method: 'mpesa', amount: 600 },
      ]),
    ).toEqual({ change: 100 });
    expect(settlePayments(1_000, [{ method: 'card', amount: 1_000 }])).toEqual({ change: 0 });
  });

  it('refuses non-cash beyond what is left and payments that do not cover the total', () => {
    expect(
      errorOf(() => settlePayments(1_000, [{ method: 'mpesa', amount: 1_001 }])),
    ).toMatchObject({ code: 'UNPROCESSABLE', errors: [{ path: 'payments.0.amount' }] });
    expect(
      errorOf(() =>
        settlePayments(1_000, [
          { method: 'card', amount: 600 },
          { method: 'mpesa', amount: 500 },
        ]),
      ),
    ).toMatchObject({ code: 'UNPROCESSABLE', errors: [{ path: 'payments.1.amount' }] });
    expect(errorOf(() => settlePayments(1_000, [{ method: 'cash', amount: 999 }]))).toMatchObject({
      code: 'UNPROCESSABLE',
      errors: [{ path: 'payments' }],
    });
  });

  it('for any accepted payments: tendered − change = total, change ≤ cash', () => {
    const paymentArb = fc.record({
      method: fc.constantFrom<'cash' | 'mpesa' | 'card' | 'other'>(
        'cash',
        'mpesa',
        'card',
        'other',
      ),
      amount: fc.integer({ min: 0, max: 100_000 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(paymentArb, { minLength: 1, maxLength: 10 }),
        (total, payments) => {
          let result: { change: number };
          try {
            result = settlePayments(total, payments);
          } catch (error) {
            expect((error as AppError).code).toBe('UNPROCESSABLE');
            return;
          }
          const tendered = payments.reduce((sum, payment) => sum + payment.amount, 0);
          const cash = payments
            .filter((payment) => payment.method === 'cash')
            .reduce((sum, payment) => sum + payment.amount, 0);
          expect(tendered - result.change).toBe(total);
          expect(result.change).toBeGreaterThanOrEqual(0);
          expect(result.change).toBeLessThanOrEqual(cash);
        },
      ),
    );
  });
});

describe('checkOccurredAt', () => {
  it('accepts up to 5 minutes ahead and refuses beyond', () => {
    const now = new Date('2026-11-22T10:00:00.000Z');
    expect(() => checkOccurredAt(new Date('2026-11-22T10:05:00.000Z'), now)).not.toThrow();
    expect(() => checkOccurredAt(new Date('2020-01-01T00:00:00.000Z'), now)).not.toThrow();
    expect(errorOf(() => checkOccurredAt(new Date('2026-11-22T10:05:00.001Z'), now)).code).toBe(
      'UNPROCESSABLE',
    );
  });
});
