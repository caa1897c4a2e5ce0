import { describe, expect, it } from 'vitest';
import {
  renderReceiptEscPos,
  renderReceiptText,
} from '../../src/modules/receipts/receipt-render.js';
import type { ReceiptDocument } from '../../src/modules/receipts/receipt.model.js';
import { parseEscPos, printedRows, qrCommands } from '../helpers/escpos.js';

const QR_URL =
  'https://etims-sbx.kra.go.ke/common/link/etims/receipt/indexEtimsReceiptData?Data=P051234567X00ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const receipt = (overrides: Partial<ReceiptDocument> = {}): ReceiptDocument => ({
  kind: 'sale',
  title: 'RECEIPT',
  business: { name: 'Duka la Mama', phone: '0712345678' },
  location: { id: null, name: 'Main', address: 'Moi Avenue', phone: null },
  number: 42,
  receiptNumber: 'T1-0042',
  originalSaleNumber: null,
  occurredAt: '2026-12-06T06:30:00.000Z',
  localTime: '2026-12-06 09:30',
  timezone: 'Africa/Nairobi',
  cashier: { id: '0193c5c5-0000-7000-8000-000000000000', name: 'Wanjiku' },
  lines: [
    {
      name: 'Unga 2kg',
      sku: 'UNGA-2',
      quantity: 2,
      unitPrice: 23_000,
      discount: 0,
      total: 46_000,
      taxRate: 1600,
    },
    {
      name: 'Maziwa 500ml',
      sku: null,
      quantity: 1,
      unitPrice: 6_000,
      discount: 500,
      total: 5_500,
      taxRate: 0,
    },
  ],
  subtotal: 51_500,
  discount: 1_500,
  tax: 6_138,
  total: 50_000,
  vat: [
    { rate: 1600, taxable: 38_362, tax: 6_138 },
    { rate: 0, taxable: 5_500, tax: 0 },
  ],
  payments: [{ method: 'cash', amount: 60_000, reference: null }],
  change: 10_000,
  voided: false,
  etims: null,
  ...overrides,
});

const signed = receipt({
  etims: {
    receiptNumber: 17,
    totalReceiptNumber: 17,
    internalData: 'ZQJQ2ZTK7NFNH3KCYVRNSIXLA4',
    signature: 'K7Z4QCLIW5RD7M6D',
    sdcDateTime: '2026-12-06 09:30:12',
    qrUrl: QR_URL,
    sdcId: 'KRACU0100000001',
  },
});

describe('receipt as fixed-width text', () => {
  it.each([
    [58, 32],
    [80, 48],
  ] as const)(
    '%i mm paper: no row wider than %i columns, rules exactly as wide',
    (paper, columns) => {
      const rows = renderReceiptText(signed, paper).trimEnd().split('\n');
      for (const row of rows) expect(row.length).toBeLessThanOrEqual(columns);
      expect(rows).toContain('-'.repeat(columns));
      const total = rows.find((row) => row.startsWith('TOTAL'))!;
      expect(total).toHaveLength(columns);
      expect(total.endsWith('KES 500.00')).toBe(true);
    },
  );

  it('prints the money, VAT per rate, payments, change, cashier and numbers', () => {
    const text = renderReceiptText(receipt(), 80);
    for (const expected of [
      'Duka la Mama',
      'Main, Moi Avenue',
      'Sale no.',
      '42',
      'T1-0042',
      '2026-12-06 09:30',
      'Wanjiku',
      '2 x 230.00',
      '460.00',
      '-5.00',
      '-15.00',
      'VAT 16% on 383.62',
      '61.38',
      'VAT 0% on 55.00',
      'Cash',
      '600.00',
      'Change',
      '100.00',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('eTIMS');
  });

  it('prints the eTIMS block with the address of its QR code', () => {
    const text = renderReceiptText(signed, 80);
    expect(text).toContain('KRA eTIMS');
    expect(text).toContain('ZQJQ2ZTK7NFNH3KCYVRNSIXLA4');
    expect(text).toContain('K7Z4QCLIW5RD7M6D');
    expect(text).toContain('17/17');
  });
});

describe('receipt as ESC/POS', () => {
  it('is a valid command stream: initialise first, cut last, bold only around headings and the total', () => {
    const items = parseEscPos(renderReceiptEscPos(receipt(), 58));
    expect(items[0]).toEqual({ kind: 'init' });
    const cut = items.findLastIndex((item) => item.kind === 'cut');
    expect(cut).toBeGreaterThan(0);
    expect(
      items
        .slice(cut + 1)
        .every((item) => item.kind === 'newline' || item.kind === 'carriage-return'),
    ).toBe(true);
    // The rows between each "bold on" and "bold off".
    const boldRows: string[] = [];
    let inBold = false;
    for (const item of items) {
      if (item.kind === 'bold') inBold = item.on;
      if (item.kind === 'text' && inBold) boldRows.push(String.fromCharCode(...item.bytes).trim());
    }
    expect(boldRows).toContain('Duka la Mama');
    expect(boldRows.some((row) => row.startsWith('TOTAL') && row.endsWith('KES 500.00'))).toBe(
      true,
    );
    expect(boldRows.some((row) => row.startsWith('Cash'))).toBe(false);
    expect(qrCommands(items)).toEqual([]);
  });

  it.each([
    [58, 32],
    [80, 48],
  ] as const)(
    '%i mm: every printed row fits %i columns; the business name is centred',
    (paper, columns) => {
      const rows = printedRows(parseEscPos(renderReceiptEscPos(receipt(), paper)));
      for (const row of rows) expect(row.length).toBeLessThanOrEqual(columns);
      const name = rows.find((row) => row.includes('Duka la Mama'))!;
      const left = name.length - name.trimStart().length;
      expect(Math.abs(left - (columns - 'Duka la Mama'.length) / 2)).toBeLessThanOrEqual(1);
    },
  );

  it('prints the eTIMS QR code with the QR function sequence: model, size, error level, store, print', () => {
    const qr = qrCommands(parseEscPos(renderReceiptEscPos(signed, 80)));
    expect(qr.map((command) => command.fn)).toEqual([65, 67, 69, 80, 81]);
    expect(qr[0]!.params).toEqual([50, 0]); // model 2
    expect(qr[1]!.params[0]).toBeGreaterThanOrEqual(1); // module size in dots
    expect(qr[1]!.params[0]).toBeLessThanOrEqual(16);
    expect([48, 49, 50, 51]).toContain(qr[2]!.params[0]); // error level L/M/Q/H
    const stored = qr[3]!;
    expect(stored.params[0]).toBe(48);
    expect(Buffer.from(stored.params.slice(1)).toString('latin1')).toBe(QR_URL);
    expect(qr[4]!.params).toEqual([48]);
  });

  it('writes characters outside ASCII through the printer code page, not as UTF-8', () => {
    const bytes = renderReceiptEscPos(
      receipt({ business: { name: 'Café Tamu', phone: null } }),
      58,
    );
    const items = parseEscPos(bytes);
    expect(items.some((item) => item.kind === 'codepage')).toBe(true);
    const row = printedRows(items).find((r) => r.includes('Caf'))!;
    // One byte for é (CP437 0x82), so the row stays 9 characters wide.
    expect(row.trim()).toHaveLength('Café Tamu'.length);
  });
});
