import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bandFields, computeBands, includedTaxCents, type BandLine } from './bands.js';
import { TAX_TYPE_CODES } from './codes.js';

const line = fc.record({
  taxType: fc.constantFrom(...TAX_TYPE_CODES),
  amountCents: fc.integer({ min: 0, max: 10_000_000_000 }),
});

describe('eTIMS tax bands', () => {
  it('matches the spec’s sample: B lines 7000 and 3500 at 18 % carry 1068 and 534', () => {
    const rates = { A: 0, B: 18, C: 0, D: 0, E: 0 };
    const totals = computeBands(
      [
        { taxType: 'B', amountCents: 700_000 },
        { taxType: 'B', amountCents: 350_000 },
      ],
      rates,
    );
    expect(totals.lineTaxCents).toEqual([106_780, 53_390]);
    expect(bandFields(totals)).toMatchObject({
      taxblAmtB: 10500,
      taxRtB: 18,
      taxAmtB: 1601.7,
      totTaxblAmt: 10500,
      totAmt: 10500,
    });
    // The spec's stock sample: 35000 at 18 % carries 5338.98.
    expect(includedTaxCents(3_500_000, 18)).toBe(533_898);
  });

  it('Kenyan rates: B 16 %, E 8 %, A/C/D none', () => {
    const totals = computeBands([
      { taxType: 'B', amountCents: 11_600 },
      { taxType: 'E', amountCents: 10_800 },
      { taxType: 'A', amountCents: 5_000 },
      { taxType: 'C', amountCents: 5_000 },
      { taxType: 'D', amountCents: 5_000 },
    ]);
    expect(totals.lineTaxCents).toEqual([1_600, 800, 0, 0, 0]);
    expect(totals.totalCents).toBe(37_400);
  });

  it('bands sum to the totals, taxes sum to lines, tax never exceeds its taxable amount', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), (lines: BandLine[]) => {
        const totals = computeBands(lines);
        const bands = TAX_TYPE_CODES.map((type) => totals.bands[type]);
        expect(bands.reduce((s, b) => s + b.taxableCents, 0)).toBe(totals.totalTaxableCents);
        expect(bands.reduce((s, b) => s + b.taxCents, 0)).toBe(totals.totalTaxCents);
        expect(totals.lineTaxCents.reduce((s, t) => s + t, 0)).toBe(totals.totalTaxCents);
        expect(lines.reduce((s, l) => s + l.amountCents, 0)).toBe(totals.totalCents);
        expect(totals.totalTaxCents).toBeLessThanOrEqual(totals.totalCents);
        for (const band of bands) {
          expect(band.taxCents).toBeGreaterThanOrEqual(0);
          expect(band.taxCents).toBeLessThanOrEqual(band.taxableCents);
          if (band.rate === 0) expect(band.taxCents).toBe(0);
        }
      }),
    );
  });

  it('a line’s tax is the exactly rounded VAT fraction (within half a cent)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000_000 }),
        fc.constantFrom(8, 16, 18),
        (amount, rate) => {
          const exact = (amount * rate) / (100 + rate);
          expect(Math.abs(includedTaxCents(amount, rate) - exact)).toBeLessThanOrEqual(0.5);
        },
      ),
    );
  });

  it('refuses fractional or negative cents', () => {
    expect(() => computeBands([{ taxType: 'B', amountCents: 1.5 }])).toThrow(RangeError);
    expect(() => computeBands([{ taxType: 'B', amountCents: -1 }])).toThrow(RangeError);
  });
});
