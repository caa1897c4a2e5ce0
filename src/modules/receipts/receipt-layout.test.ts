import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layoutReceipt, leftRight, shillings, wrap } from './receipt-layout.js';
import { vatBands, type ReceiptDocument } from './receipt.model.js';

const printable = fc.string({
  unit: fc.constantFrom(...'abcdefghij KLMNOP-.,/()0123456789é'.split('')),
});

describe('receipt layout', () => {
  it('prints money as shillings with two decimals and thousands separators', () => {
    expect(shillings(0)).toBe('0.00');
    expect(shillings(5)).toBe('0.05');
    expect(shillings(123_456)).toBe('1,234.56');
    expect(shillings(-1_000)).toBe('-10.00');
    expect(shillings(100_000_000_00)).toBe('100,000,000.00');
  });

  it('never prints a row wider than the paper, and loses no word', () => {
    fc.assert(
      fc.property(printable, printable, fc.constantFrom(32, 48), (left, right, width) => {
        const rows = leftRight(left, right, width);
        for (const row of rows) expect(row.length).toBeLessThanOrEqual(width);
        const words = (text: string) => text.split(/\s+/).filter(Boolean).join('');
        expect(words(rows.join(' '))).toBe(words(left) + words(right));
        for (const row of wrap(left, width)) expect(row.length).toBeLessThanOrEqual(width);
      }),
    );
  });

  it('VAT bands add up to what was paid for the lines', () => {
    const line = fc.record({
      taxRate: fc.constantFrom(0, 800, 1600),
      total: fc.integer({ min: 0, max: 10_000_000 }),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), (lines) => {
        const withTax = lines.map((l) => ({
          ...l,
          tax: Math.round((l.total * l.taxRate) / (10_000 + l.taxRate)),
        }));
        const bands = vatBands(withTax);
        const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
        expect(sum(bands.map((b) => b.taxable + b.tax))).toBe(sum(lines.map((l) => l.total)));
        expect(sum(bands.map((b) => b.tax))).toBe(sum(withTax.map((l) => l.tax)));
        expect(new Set(bands.map((b) => b.rate)).size).toBe(bands.length);
      }),
    );
  });

  it('lays out every part of a long receipt within 32 columns', () => {
    const receipt: ReceiptDocument = {
      kind: 'sale',
      title: 'RECEIPT',
      business: { name: 'Mama Njeri General Stores and Wholesale Limited', phone: '0712345678' },
      location: { id: null, name: 'Westlands', address: 'Shop 4, Sarit Centre', phone: null },
      number: 1_234_567,
      receiptNumber: 'TILL-2-000123456789',
      originalSaleNumber: null,
      occurredAt: '2026-12-06T06:30:00.000Z',
      localTime: '2026-12-06 09:30',
      timezone: 'Africa/Nairobi',
      cashier: { id: '0193c5c5-0000-7000-8000-000000000000', name: 'Wanjiku Kamau' },
      lines: [
        {
          name: 'Unga wa Ngano Exe Home Baking Flour 2kg (bale of 12)',
          sku: null,
          quantity: 1234.5,
          unitPrice: 99_999_999,
          discount: 100,
          total: 123_449_998_665,
          taxRate: 1600,
        },
      ],
      subtotal: 123_449_998_665,
      discount: 0,
      tax: 17_027_585_988,
      total: 123_449_998_665,
      vat: [{ rate: 1600, taxable: 106_422_412_677, tax: 17_027_585_988 }],
      payments: [{ method: 'mpesa', amount: 123_449_998_665, reference: 'SKL0AB12CD' }],
      change: 0,
      voided: false,
      etims: null,
    };
    for (const row of layoutReceipt(receipt, 32)) {
      if (row.kind === 'text') expect(row.text.length).toBeLessThanOrEqual(32);
    }
  });
});
