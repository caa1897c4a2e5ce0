import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossesLowStock, fromMilli, movementDeltaMilli, toMilli } from './inventory.rules.js';

const tracked = { trackStock: true, archived: false, lowStockThresholdMilli: 5000 };

describe('inventory rules', () => {
  it('adds quantities exactly in thousandths', () => {
    expect(fromMilli(toMilli(0.1) + toMilli(0.2))).toBe(0.3);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 })), (millis) => {
        const sum = millis.reduce((total, milli) => total + milli, 0);
        expect(toMilli(fromMilli(sum))).toBe(sum);
      }),
    );
  });

  it('makes count a delta to the counted level and keeps other deltas as given', () => {
    expect(movementDeltaMilli('count', 7000, 10_500)).toBe(-3500);
    expect(movementDeltaMilli('receive', 2000, 10_500)).toBe(2000);
    expect(movementDeltaMilli('adjust', -250, 0)).toBe(-250);
  });

  it('alerts only when crossing from above the threshold to at or below it', () => {
    expect(crossesLowStock(tracked, 6000, 5000)).toBe(true);
    expect(crossesLowStock(tracked, 6000, 4000)).toBe(true);
    expect(crossesLowStock(tracked, 5000, 4000)).toBe(false); // already low
    expect(crossesLowStock(tracked, 6000, 5001)).toBe(false);
    expect(crossesLowStock({ ...tracked, trackStock: false }, 6000, 0)).toBe(false);
    expect(crossesLowStock({ ...tracked, archived: true }, 6000, 0)).toBe(false);
    expect(crossesLowStock({ ...tracked, lowStockThresholdMilli: null }, 6000, 0)).toBe(false);
  });
});
