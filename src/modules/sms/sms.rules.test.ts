import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatKes, receiptText, reminderText } from './sms.rules.js';

describe('SMS texts', () => {
  it('formats KES from cents', () => {
    expect(formatKes(0)).toBe('KES 0');
    expect(formatKes(123_456)).toBe('KES 1,234.56');
    expect(formatKes(100_000)).toBe('KES 1,000');
    expect(formatKes(5)).toBe('KES 0.05');
  });

  it('a receipt and a reminder always fit one SMS part (160 characters)', () => {
    const name = fc.string({ maxLength: 300 });
    const cents = fc.integer({ min: 0, max: 10_000_000_000 });
    fc.assert(
      fc.property(
        name,
        name,
        cents,
        fc.integer({ min: 1, max: 1e12 }),
        (business, person, amount, number) => {
          const receipt = receiptText({
            businessName: business,
            number,
            receiptNumber: null,
            total: amount,
            occurredAt: '2026-12-06T10:00:00.000Z',
            status: 'completed',
          });
          expect(receipt.length).toBeLessThanOrEqual(160);
          expect(
            reminderText({ businessName: business, name: person, balance: amount }).length,
          ).toBeLessThanOrEqual(160);
        },
      ),
    );
  });
});
