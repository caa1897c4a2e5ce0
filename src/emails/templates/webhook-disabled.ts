import { z } from '../../lib/zod.js';
import { defineTemplate, html, layout } from '../template.js';

export const WebhookDisabledEmail = z.object({
  to: z.email(),
  businessName: z.string().min(1),
  url: z.string().min(1),
  reason: z.string().min(1),
});

export const webhookDisabledTemplate = defineTemplate({
  name: 'webhook-disabled',
  schema: WebhookDisabledEmail,
  render: (data) => {
    const subject = `${data.businessName}: a webhook endpoint was disabled`;
    return {
      subject,
      text: [
        `We stopped sending events of ${data.businessName} to ${data.url}.`,
        `Reason: ${data.reason}`,
        '',
        'Fix the endpoint, then enable it again (PATCH /webhooks/{id} with {"enabled": true});',
        'deliveries that failed meanwhile can be retried from the delivery log.',
      ].join('\n'),
      html: layout(
        subject,
        html`<h1 style="font-size:20px">Webhook endpoint disabled</h1>
          <p>We stopped sending events of ${data.businessName} to <code>${data.url}</code>.</p>
          <p>Reason: ${data.reason}</p>
          <p>
            Fix the endpoint, then enable it again; deliveries that failed meanwhile can be retried
            from the delivery log.
          </p>`,
      ),
    };
  },
});
