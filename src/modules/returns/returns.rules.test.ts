import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { computeSaleAmounts, containedTax, lineGross, roundDiv } from '../sales/sales.rules.js';
import { checkRefunds, returnedLineAmounts, type SoldLine } from './returns.rules.js';

const lineArb = fc
  .record({
    quantityThousandths: fc.oneof(
      fc.integer({ min: 1, max: 20 }).map((units) => units * 1000),
      fc.integer({ min: 1, max: 50_000 }),
    ),
    unitPrice: fc.integer({ min: 0, max: 2_000_000 }),
    taxRate: fc.constantFrom(0, 800, 1600, 10_000),
    discountFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ quantityThousandths, discountFraction, ...line }) => {
    const quantity = quantityThousandths / 1000;
    const gross = Number(lineGross(quantity, line.unitPrice));
    return { ...line, quantity, discount: Math.floor(gross * discountFraction) };
  });

/** A sale's lines as sold (computeSaleAmounts), each with a way to cut it into pieces. */
const saleArb = fc
  .record({
    lines: fc.array(lineArb, { minLength: 1, maxLength: 8 }),
    discountFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    cuts: fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), {
      minLength: 8,
      maxLength: 8,
    }),
  })
  .map(({ lines, discountFraction, cuts }) => {
    const subtotal = lines.reduce(
      (sum, line) => sum + Number(lineGross(line.quantity, line.unitPrice)) - line.discount,
      0,
    );
    const amounts = computeSaleAmounts(lines, Math.floor(subtotal * discountFraction));
    const sold = lines.map((line, index): SoldLine => {
      const computed = amounts.lines[index];
      if (!computed) throw new Error('one amount per line');
      return {
        quantity: line.quantity,
        net: computed.total - computed.saleDiscountShare,
        tax: computed.tax,
        taxRate: line.taxRate,
        returnedQuantity: 0,
        returnedTotal: 0,
        returnedTax: 0,
      };
    });
    return { amounts, sold, cuts };
  });

/** Cuts `quantity` (thousandths) into pieces > 0 at the given fractions. */
function pieces(quantityThousandths: number, fractions: number[]): number[] {
  const points = [
    ...new Set(fractions.map((f) => Math.floor(f * quantityThousandths)).filter((p) => p > 0)),
  ]
    .filter((p) => p < quantityThousandths)
    .sort((a, b) => a - b);
  const bounds = [0, ...points, quantityThousandths];
  return bounds.slice(1).map((bound, index) => bound - (bounds[index] ?? 0));
}

/** Returns `line` piece by piece, as the service does (the running sums carried over). */
function returnInPieces(line: SoldLine, piecesThousandths: number[]) {
  let state = line;
  return piecesThousandths.map((piece) => {
    const quantity = piece / 1000;
    const amounts = returnedLineAmounts(state, quantity, 'lines.0.quantity');
    state = {
      ...state,
      returnedQuantity: (Math.round(state.returnedQuantity * 1000) + piece) / 1000,
      returnedTotal: state.returnedTotal + amounts.total,
      returnedTax: state.returnedTax + amounts.tax,
    };
    return { quantity, ...amounts };
  });
}

describe('returned line amounts', () => {
  it('a sale returned in any pieces refunds its total to the cent; tax never exceeds total', () => {
    fc.assert(
      fc.property(saleArb, ({ amounts, sold, cuts }) => {
        let refunded = 0;
        let taxed = 0;
        sold.forEach((line, index) => {
          const parts = returnInPieces(
            line,
            pieces(Math.round(line.quantity * 1000), cuts[index] ?? []),
          );
          for (const part of parts) {
            expect(part.total).toBeGreaterThanOrEqual(0);
            expect(part.tax).toBeGreaterThanOrEqual(0);
            expect(part.tax).toBeLessThanOrEqual(part.total);
          }
          expect(parts.at(-1)?.last).toBe(true);
          expect(parts.slice(0, -1).every((part) => !part.last)).toBe(true);
          const lineTotal = parts.reduce((sum, part) => sum + part.total, 0);
          expect(lineTotal).toBe(line.net);
          refunded += lineTotal;
          taxed += parts.reduce((sum, part) => sum + part.tax, 0);
        });
        expect(refunded).toBe(amounts.total);
        expect(taxed).toBeLessThanOrEqual(amounts.tax);
      }),
      { numRuns: 300 },
    );
  });

  it('a piece that is not the last refunds round(net × q / Q) with the VAT it contains', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.constantFrom(0, 800, 1600),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (units, net, taxRate, fraction) => {
          const returned = Math.max(1, Math.min(units - 1, Math.floor(units * fraction)));
          const line: SoldLine = {
            quantity: units,
            net,
            tax: Number(containedTax(BigInt(net), taxRate)),
            taxRate,
            returnedQuantity: 0,
            returnedTotal: 0,
            returnedTax: 0,
          };
          const amounts = returnedLineAmounts(line, returned, 'q');
          const expected = roundDiv(BigInt(net) * BigInt(returned), BigInt(units));
          expect(amounts.total).toBe(Number(expected));
          expect(amounts.tax).toBe(
            Math.min(Number(containedTax(expected, taxRate)), line.tax, amounts.total),
          );
          expect(amounts.last).toBe(false);
        },
      ),
    );
  });

  // Each piece rounds by at most half a cent, so the last piece is short by at most half a
  // cent per earlier piece: when a unit is worth more than that (any real product), nothing
  // is clamped and the line's VAT comes back exactly too. (Below it, see the clamp test.)
  it('a fully returned line returns its tax exactly when every piece is a whole unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.constantFrom(0, 800, 1600),
        (units, extra, taxRate) => {
          const net = units * (2 * units + 10) + extra;
          const line: SoldLine = {
            quantity: units,
            net,
            tax: Number(containedTax(BigInt(net), taxRate)),
            taxRate,
            returnedQuantity: 0,
            returnedTotal: 0,
            returnedTax: 0,
          };
          const parts = returnInPieces(
            line,
            Array.from({ length: units }, () => 1000),
          );
          expect(parts.reduce((sum, part) => sum + part.total, 0)).toBe(net);
          expect(parts.reduce((sum, part) => sum + part.tax, 0)).toBe(line.tax);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('16 units of a 120-cent line returned one by one: totals exact, VAT short only by the clamp', () => {
    const line: SoldLine = {
      quantity: 16,
      net: 120,
      tax: 17,
      taxRate: 1600,
      returnedQuantity: 0,
      returnedTotal: 0,
      returnedTax: 0,
    };
    const parts = returnInPieces(
      line,
      Array.from({ length: 16 }, () => 1000),
    );
    // round(7.5) = 8 for each of the first 15: the 16th is left nothing.
    expect(parts.map((part) => part.total)).toEqual([...Array.from({ length: 15 }, () => 8), 0]);
    expect(parts.every((part) => part.tax <= part.total)).toBe(true);
  });

  it('refuses more than is left to return, naming the path', () => {
    const line: SoldLine = {
      quantity: 3,
      net: 300,
      tax: 41,
      taxRate: 1600,
      returnedQuantity: 2.5,
      returnedTotal: 250,
      returnedTax: 34,
    };
    expect(returnedLineAmounts(line, 0.5, 'p')).toEqual({ total: 50, tax: 7, last: true });
    for (const quantity of [0.501, 1, 0, -1]) {
      try {
        returnedLineAmounts(line, quantity, 'lines.2.quantity');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).status).toBe(422);
        expect((error as AppError).errors?.[0]?.path).toBe('lines.2.quantity');
      }
    }
  });

  it('a tiny line returned unit by unit never goes negative (the clamp)', () => {
    // net 5 over 7 units: round(5/7) = 1 per unit would give 7 > 5.
    const line: SoldLine = {
      quantity: 7,
      net: 5,
      tax: 1,
      taxRate: 1600,
      returnedQuantity: 0,
      returnedTotal: 0,
      returnedTax: 0,
    };
    const parts = returnInPieces(
      line,
      Array.from({ length: 7 }, () => 1000),
    );
    expect(parts.map((part) => part.total)).toEqual([1, 1, 1, 1, 1, 0, 0]);
    expect(parts.reduce((sum, part) => sum + part.tax, 0)).toBeLessThanOrEqual(1);
  });
});

describe('refunds', () => {
  it('must add up to the total exactly', () => {
    expect(() =>
      checkRefunds(1000, [
        { method: 'cash', amount: 600 },
        { method: 'mpesa', amount: 400 },
      ]),
    ).not.toThrow();
    expect(() => checkRefunds(0, [])).not.toThrow();
    for (const refunds of [
      [{ method: 'cash', amount: 999 }],
      [{ method: 'cash', amount: 1001 }],
      [],
    ]) {
      try {
        checkRefunds(1000, refunds);
        expect.unreachable();
      } catch (error) {
        expect((error as AppError).code).toBe('TOTALS_MISMATCH');
      }
    }
  });

  it('takes credit refunds only for a sale made to a customer', () => {
    const refunds = [
      { method: 'cash', amount: 50 },
      { method: 'credit', amount: 50 },
    ];
    expect(() => checkRefunds(100, refunds, '0193c5c5-0000-7000-8000-000000000001')).not.toThrow();
    try {
      checkRefunds(100, refunds, null);
      expect.unreachable();
    } catch (error) {
      expect((error as AppError).code).toBe('UNPROCESSABLE');
      expect((error as AppError).errors?.[0]?.path).toBe('refunds.1.method');
    }
  });
});
