import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('ignores key order at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'x' } })).toBe(
      canonicalJson({ a: { c: 'x', d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
  });

  it('compares timestamps as instants', () => {
    expect(canonicalJson({ at: '2026-11-22T10:00:00+03:00' })).toBe(
      canonicalJson({ at: '2026-11-22T07:00:00.000Z' }),
    );
    expect(canonicalJson({ at: '2026-11-22T10:00:00+03:00' })).not.toBe(
      canonicalJson({ at: '2026-11-22T10:00:00Z' }),
    );
  });

  it('keeps array order and distinguishes different values', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });

  it('is stable under any key permutation (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });
});
