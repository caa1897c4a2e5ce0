import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cashDifference, hashCloseShift, hashOpenShift } from './shifts.rules.js';

const body = fc.record({
  id: fc.uuid(),
  register: fc.string({ minLength: 1, maxLength: 20 }),
  openedAt: fc
    .integer({ min: Date.parse('2020-01-01'), max: Date.parse('2030-01-01') })
    .map((ms) => new Date(ms).toISOString()),
  openingFloat: fc.nat(),
});
const cashier = fc.uuid();

/** The same instant written with a +03:00 offset (how a Nairobi till may send it). */
const inNairobi = (iso: string) => {
  const local = new Date(Date.parse(iso) + 3 * 3_600_000).toISOString();
  return local.replace('Z', '+03:00');
};

describe('shift fingerprints', () => {
  it('an opening means the same whatever its key order, id case or offset', () => {
    fc.assert(
      fc.property(body, cashier, (opening, user) => {
        const rewritten = {
          openingFloat: opening.openingFloat,
          openedAt: inNairobi(opening.openedAt),
          register: opening.register,
          id: opening.id.toUpperCase(),
        };
        expect(hashOpenShift(rewritten, user)).toBe(hashOpenShift(opening, user));
      }),
    );
  });

  it('another float, register or opener is another opening', () => {
    fc.assert(
      fc.property(body, cashier, cashier, (opening, user, other) => {
        const hash = hashOpenShift(opening, user);
        expect(
          hashOpenShift({ ...opening, openingFloat: opening.openingFloat + 1 }, user),
        ).not.toBe(hash);
        expect(hashOpenShift({ ...opening, register: `${opening.register}x` }, user)).not.toBe(
          hash,
        );
        if (other !== user) expect(hashOpenShift(opening, other)).not.toBe(hash);
      }),
    );
  });

  it('a close with another count is another close', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        const closedAt = '2026-12-06T10:00:00.000Z';
        const same =
          hashCloseShift({ closedAt, countedCash: a }) ===
          hashCloseShift({ closedAt, countedCash: b });
        expect(same).toBe(a === b);
      }),
    );
  });
});

describe('cashDifference', () => {
  it('is counted − expected: negative when short, and expected + difference = counted', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: -1e12, max: 1e12 }), (counted, expected) => {
        const difference = cashDifference(counted, expected);
        expect(expected + difference).toBe(counted);
        expect(difference < 0).toBe(counted < expected);
      }),
    );
  });
});
