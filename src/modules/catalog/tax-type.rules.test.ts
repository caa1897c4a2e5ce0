import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveTaxType, TAX_TYPE_CODES, TAX_TYPE_RATES } from './tax-type.rules.js';

const taxType = fc.constantFrom(...TAX_TYPE_CODES);
const rate = fc.oneof(fc.constantFrom(0, 800, 1600), fc.integer({ min: 0, max: 10_000 }));
const current = fc.option(
  taxType.map((type) => ({ taxType: type, taxRate: TAX_TYPE_RATES[type] })),
  { nil: undefined },
);

describe('resolveTaxType', () => {
  it('always ends with a consistent pair, or names the field that disagrees', () => {
    fc.assert(
      fc.property(
        fc.option(taxType, { nil: undefined }),
        fc.option(rate, { nil: undefined }),
        current,
        (type, taxRate, now) => {
          const choice = resolveTaxType({ taxType: type, taxRate }, now);
          if (choice.ok) {
            expect(TAX_TYPE_RATES[choice.taxType]).toBe(choice.taxRate);
            if (type !== undefined) expect(choice.taxType).toBe(type);
            if (taxRate !== undefined) expect(choice.taxRate).toBe(taxRate);
          } else {
            expect(choice.field).toBe('taxRate');
            const consistent =
              type !== undefined && taxRate !== undefined && TAX_TYPE_RATES[type] === taxRate;
            expect(consistent).toBe(false);
          }
        },
      ),
    );
  });

  it('derives 1600 → B, 800 → E, 0 → A and keeps a current type of the same rate', () => {
    expect(resolveTaxType({ taxRate: 1600 })).toMatchObject({ taxType: 'B' });
    expect(resolveTaxType({ taxRate: 800 })).toMatchObject({ taxType: 'E' });
    expect(resolveTaxType({})).toMatchObject({ taxType: 'A', taxRate: 0 });
    expect(resolveTaxType({ taxRate: 0 }, { taxType: 'C', taxRate: 0 })).toMatchObject({
      taxType: 'C',
    });
    expect(resolveTaxType({ taxType: 'B', taxRate: 800 })).toMatchObject({ ok: false });
    expect(resolveTaxType({ taxRate: 1400 })).toMatchObject({ ok: false, field: 'taxRate' });
  });
});
