import { z } from '../../lib/zod.js';
import { defineTemplate, formatDate, formatMoney, html, layout } from '../template.js';

/** The Sale resource (API.md); only the fields a receipt shows are required. */
const ReceiptSale = z.object({
  id: z.string(),
  number: z.number().int().optional(),
  receiptNumber: z.string().nullable().optional(),
  occurredAt: z.iso.datetime({ offset: true }),
  subtotal: z.number().int(),
  discount: z.number().int(),
  tax: z.number().int(),
  total: z.number().int(),
  change: z.number().int().optional(),
  lines: z
    .array(
      z.object({
        name: z.string(),
        quantity: z.number(),
        unitPrice: z.number().int(),
        total: z.number().int(),
      }),
    )
    .min(1),
  payments: z
    .array(z.object({ method: z.string(), amount: z.number().int() }))
    .optional()
    .default([]),
  voidedAt: z.iso.datetime({ offset: true }).nullable().optional(),
});

export const SaleReceiptEmail = z.object({
  to: z.email(),
  businessName: z.string().min(1),
  sale: ReceiptSale,
});

export const saleReceiptTemplate = defineTemplate({
  name: 'sale-receipt',
  schema: SaleReceiptEmail,
  render: ({ businessName, sale }) => {
    const reference =
      sale.receiptNumber ?? (sale.number === undefined ? sale.id : `#${sale.number}`);
    const subject = `Your receipt from ${businessName} (${reference})`;
    const totals: [string, number][] = [
      ['Subtotal', sale.subtotal],
      ...(sale.discount !== 0 ? ([['Discount', -sale.discount]] as [string, number][]) : []),
      ['Total', sale.total],
      ['VAT included', sale.tax],
      ...sale.payments.map((payment): [string, number] => [
        `Paid (${payment.method})`,
        payment.amount,
      ]),
      ...(sale.change ? ([['Change', sale.change]] as [string, number][]) : []),
    ];
    return {
      subject,
      text: [
        `${businessName} — receipt ${reference}`,
        formatDate(sale.occurredAt),
        '',
        ...sale.lines.map(
          (line) =>
            `${line.quantity} × ${line.name} @ ${formatMoney(line.unitPrice)} = ${formatMoney(line.total)}`,
        ),
        '',
        ...totals.map(([label, cents]) => `${label}: ${formatMoney(cents)}`),
        ...(sale.voidedAt ? ['', 'This sale was voided.'] : []),
      ].join('\n'),
      html: layout(
        subject,
        html`<h1 style="font-size:20px">${businessName}</h1>
          <p>Receipt ${reference} · ${formatDate(sale.occurredAt)}</p>
          <table style="width:100%;border-collapse:collapse">
            ${sale.lines.map(
              (line) =>
                html`<tr>
                  <td style="padding:4px 0">${line.quantity} × ${line.name}</td>
                  <td style="text-align:right">${formatMoney(line.total)}</td>
                </tr>`,
            )}
          </table>
          <hr style="border:none;border-top:1px solid #e4e7eb" />
          <table style="width:100%;border-collapse:collapse">
            ${totals.map(
              ([label, cents]) =>
                html`<tr>
                  <td style="padding:2px 0">${label}</td>
                  <td style="text-align:right">${formatMoney(cents)}</td>
                </tr>`,
            )}
          </table>
          ${sale.voidedAt ? html`<p><strong>This sale was voided.</strong></p>` : ''}`,
      ),
    };
  },
});
