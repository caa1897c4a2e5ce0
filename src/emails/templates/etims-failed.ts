import { z } from '../../lib/zod.js';
import { defineTemplate, html, layout } from '../template.js';

export const EtimsFailedEmail = z.object({
  to: z.email(),
  businessName: z.string().min(1),
  saleId: z.uuid(),
  document: z.enum(['sale', 'credit_note']),
  code: z.string().min(1),
  message: z.string(),
});

/** To owners and managers: KRA refused an invoice (or credit note) it will never accept as sent. */
export const etimsFailedTemplate = defineTemplate({
  name: 'etims-failed',
  schema: EtimsFailedEmail,
  render: (data) => {
    const what = data.document === 'sale' ? 'an invoice' : 'a credit note';
    const subject = `${data.businessName}: KRA eTIMS refused ${what}`;
    return {
      subject,
      text: [
        `KRA eTIMS refused ${what} of sale ${data.saleId}.`,
        `KRA's answer: ${data.code} ${data.message}`,
        '',
        'Fix the cause (the product, the KRA PIN or the device initialisation), then send it',
        `again with POST /sales/${data.saleId}/etims/retry. It keeps its invoice number.`,
      ].join('\n'),
      html: layout(
        subject,
        html`<h1 style="font-size:20px">KRA eTIMS refused ${what}</h1>
          <p>
            Sale <code>${data.saleId}</code>: KRA answered <code>${data.code}</code> ${data.message}
          </p>
          <p>
            Fix the cause (the product, the KRA PIN or the device initialisation), then send it
            again from the sale (retry). It keeps its invoice number.
          </p>`,
      ),
    };
  },
});
