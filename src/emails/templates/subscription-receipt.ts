import { z } from '../../lib/zod.js';
import { defineTemplate, formatDate, formatMoney, html, layout } from '../template.js';

export const SubscriptionReceiptEmail = z.object({
  to: z.email(),
  businessName: z.string().min(1),
  plan: z.enum(['monthly', 'annual']),
  /** Cents. */
  amount: z.number().int().nonnegative(),
  /** Null when the payment was confirmed only by Daraja's status query (API.md: no receipt number). */
  mpesaReceiptNumber: z.string().min(1).nullable(),
  currentPeriodEnd: z.iso.datetime({ offset: true }),
});

export const subscriptionReceiptTemplate = defineTemplate({
  name: 'subscription-receipt',
  schema: SubscriptionReceiptEmail,
  render: (data) => {
    const subject = `Payment received: ${data.businessName} ${data.plan} plan`;
    return {
      subject,
      text: [
        `Thank you. We received ${formatMoney(data.amount)} for the ${data.plan} plan of ${data.businessName}.`,
        receiptLine(data.mpesaReceiptNumber),
        `Your subscription runs until ${formatDate(data.currentPeriodEnd)}.`,
      ].join('\n'),
      html: layout(
        subject,
        html`<h1 style="font-size:20px">Payment received</h1>
          <p>
            Thank you. We received <strong>${formatMoney(data.amount)}</strong> for the
            <strong>${data.plan}</strong> plan of ${data.businessName}.
          </p>
          ${
            data.mpesaReceiptNumber === null
              ? html`<p>${receiptLine(null)}</p>`
              : html`<p>M-Pesa receipt: <strong>${data.mpesaReceiptNumber}</strong></p>`
          }
          <p>Your subscription runs until ${formatDate(data.currentPeriodEnd)}.</p>`,
      ),
    };
  },
});

function receiptLine(receiptNumber: string | null): string {
  return receiptNumber === null
    ? 'Payment confirmed by an M-Pesa status query (M-Pesa sent no receipt number).'
    : `M-Pesa receipt: ${receiptNumber}`;
}
