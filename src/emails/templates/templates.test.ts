import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../template.js';
import { emailTemplates } from './index.js';

const EVIL = `<img src=x onerror="alert('x')">&`;
const sale = {
  id: '01900000-0000-7000-8000-000000000001',
  number: 42,
  receiptNumber: null,
  clientRequestId: '01900000-0000-7000-8000-000000000002',
  status: 'completed',
  occurredAt: '2026-11-22T08:30:00.000Z',
  receivedAt: '2026-11-22T08:30:01.000Z',
  cashierId: '01900000-0000-7000-8000-000000000003',
  subtotal: 25_000,
  discount: 1_000,
  tax: 3_310,
  total: 24_000,
  change: 1_000,
  lines: [
    {
      id: 'l1',
      productId: 'p1',
      name: EVIL,
      sku: null,
      quantity: 2,
      unitPrice: 10_000,
      catalogPrice: 10_000,
      discount: 0,
      tax: 2_648,
      total: 20_000,
    },
    {
      id: 'l2',
      productId: 'p2',
      name: 'Sukuma 0.5kg',
      sku: 'SK',
      quantity: 0.5,
      unitPrice: 10_000,
      catalogPrice: 10_000,
      discount: 0,
      tax: 662,
      total: 5_000,
    },
  ],
  payments: [{ method: 'cash', amount: 25_000, reference: null }],
  customerPhone: null,
  note: null,
  voidedAt: null,
  voidReason: null,
};

/** One valid payload per template, exactly the brief's contract, with hostile strings. */
const samples: Record<string, Record<string, unknown>> = {
  invite: {
    to: 'a@example.test',
    businessName: EVIL,
    inviterName: EVIL,
    role: 'manager',
    acceptUrl: 'https://pos.example/accept-invite?token=t&x="y"',
    expiresAt: '2026-11-29T08:00:00.000Z',
  },
  'password-reset': {
    to: 'a@example.test',
    name: EVIL,
    resetUrl: 'https://pos.example/reset-password?token=t',
    expiresAt: '2026-11-22T09:00:00.000Z',
  },
  'sale-receipt': { to: 'a@example.test', businessName: EVIL, sale },
  'subscription-receipt': {
    to: 'a@example.test',
    businessName: EVIL,
    plan: 'annual',
    amount: 1_500_000,
    mpesaReceiptNumber: 'SKL1ABC2DE',
    currentPeriodEnd: '2027-11-22T00:00:00.000Z',
  },
  'low-stock-digest': {
    to: 'a@example.test',
    businessName: EVIL,
    products: [{ name: EVIL, sku: null, stockQuantity: 1.5, lowStockThreshold: 2 }],
  },
  'etims-failed': {
    to: 'a@example.test',
    businessName: EVIL,
    saleId: '0193c5c5-0000-7000-8000-000000000001',
    document: 'credit_note',
    code: '910',
    message: EVIL,
  },
  'webhook-disabled': {
    to: 'a@example.test',
    businessName: EVIL,
    url: 'https://erp.example/hook?a=1&b=<2>',
    reason: 'The endpoint answered 410 Gone',
  },
};

describe('email templates', () => {
  it('has exactly the templates of the outbox contract', () => {
    expect([...emailTemplates.keys()].sort()).toEqual(Object.keys(samples).sort());
  });

  for (const [name, payload] of Object.entries(samples)) {
    it(`${name}: renders subject, text and HTML with every payload value escaped`, () => {
      const template = emailTemplates.get(name)!;
      const rendered = template.render(template.schema.parse(payload));
      expect(rendered.subject.length).toBeGreaterThan(0);
      expect(rendered.text.length).toBeGreaterThan(0);
      expect(rendered.html).toMatch(/^<!doctype html>/);
      expect(rendered.html).not.toContain('<img');
      expect(rendered.html).not.toContain('onerror="');
      expect(rendered.html).not.toMatch(/<[^>]*"y"/);
    });

    it(`${name}: refuses a payload without its recipient`, () => {
      const template = emailTemplates.get(name)!;
      const { to: _to, ...rest } = payload;
      expect(template.schema.safeParse(rest).success).toBe(false);
    });
  }

  it('subscription-receipt: a payment confirmed only by the STK query (no receipt number) still renders', () => {
    const template = emailTemplates.get('subscription-receipt')!;
    const rendered = template.render(
      template.schema.parse({ ...samples['subscription-receipt'], mpesaReceiptNumber: null }),
    );
    expect(rendered.text).toContain('confirmed by an M-Pesa status query');
    expect(rendered.text).not.toContain('null');
    expect(rendered.html).not.toContain('null');
  });
  it('sale-receipt shows lines and totals in shillings', () => {
    const template = emailTemplates.get('sale-receipt')!;
    const rendered = template.render(template.schema.parse(samples['sale-receipt']));
    expect(rendered.subject).toContain('#42');
    expect(rendered.text).toContain('0.5 × Sukuma 0.5kg @ KES 100.00 = KES 50.00');
    expect(rendered.text).toContain('Total: KES 240.00');
    expect(rendered.text).toContain('Change: KES 10.00');
  });

  it('formats any amount of cents exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (cents) => {
        const text = formatMoney(cents);
        const digits = Number(text.replace(/[^0-9-]/g, ''));
        return digits === cents;
      }),
    );
  });
});
