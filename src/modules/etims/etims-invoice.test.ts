import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TAX_RATES, TAX_TYPE_CODES } from '../../etims/codes.js';
import { saleArithmeticProblem } from '../../etims/simulator/sales-rules.js';
import { StockIOSaveReq, TrnsSalesSaveWrReq } from '../../etims/wire.js';
import { buildSaleRequest, buildStockIoRequest, paymentTypeOf } from './etims-invoice.js';

const line = fc
  .record({
    quantity: fc.oneof(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 50_000 }).map((n) => n / 1000),
    ),
    unitPrice: fc.integer({ min: 0, max: 5_000_000 }),
    taxType: fc.constantFrom(...TAX_TYPE_CODES),
    discountShare: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map((l) => {
    const supply = Math.round(l.quantity * l.unitPrice);
    return {
      itemCode: 'KE2NTU0000001',
      itemClassCode: '99000000',
      name: 'Item',
      unit: 'each',
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      discount: Math.floor(supply * l.discountShare),
      taxType: l.taxType,
    };
  });

describe('buildSaleRequest', () => {
  it('builds requests the spec schema and the simulator arithmetic accept (sales and credit notes)', () => {
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (lines, credit) => {
          const request = buildSaleRequest({
            tin: 'P051234567X',
            bhfId: '00',
            invoiceNumber: 7,
            originalInvoiceNumber: credit ? 3 : 0,
            kind: credit ? 'credit_note' : 'sale',
            tradeInvoiceNumber: '42',
            occurredAt: new Date('2026-12-06T05:00:00Z'),
            confirmedAt: new Date('2026-12-06T05:00:01Z'),
            paymentMethod: 'mpesa',
            customerPhone: null,
            registrarName: 'Shop',
            lines,
          });
          expect(TrnsSalesSaveWrReq.safeParse(request).success).toBe(true);
          expect(saleArithmeticProblem(request, DEFAULT_TAX_RATES)).toBeNull();
          expect(request.rcptTyCd).toBe(credit ? 'R' : 'S');
          expect(request.pmtTyCd).toBe('06');
          expect(StockIOSaveReq.safeParse(buildStockIoRequest(request)).success).toBe(true);
        },
      ),
    );
  });

  it('names the method that paid most', () => {
    expect(
      paymentTypeOf([
        { method: 'cash', amount: 100 },
        { method: 'mpesa', amount: 300 },
        { method: 'cash', amount: 100 },
      ]),
    ).toBe('mpesa');
    expect(paymentTypeOf([])).toBeNull();
  });
});
