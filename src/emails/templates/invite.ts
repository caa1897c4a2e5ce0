import { z } from '../../lib/zod.js';
import { button, defineTemplate, formatDate, html, layout, tokenFallback } from '../template.js';

export const InviteEmail = z.object({
  to: z.email(),
  businessName: z.string().min(1),
  inviterName: z.string().min(1),
  role: z.enum(['owner', 'manager', 'cashier']),
  acceptUrl: z.url(),
  expiresAt: z.iso.datetime({ offset: true }),
});

export const inviteTemplate = defineTemplate({
  name: 'invite',
  schema: InviteEmail,
  render: (data) => {
    const subject = `${data.inviterName} invited you to ${data.businessName}`;
    return {
      subject,
      text: [
        `${data.inviterName} invited you to join ${data.businessName} as ${data.role}.`,
        '',
        'Accept the invitation:',
        data.acceptUrl,
        ...tokenFallback(data.acceptUrl, 'invitation'),
        '',
        `The link expires ${formatDate(data.expiresAt)}. If you did not expect it, ignore this email.`,
      ].join('\n'),
      html: layout(
        subject,
        html`<h1 style="font-size:20px">You are invited to ${data.businessName}</h1>
          <p>
            ${data.inviterName} invited you to join <strong>${data.businessName}</strong> as
            <strong>${data.role}</strong>.
          </p>
          ${button(data.acceptUrl, 'Accept the invitation')}
          <p style="font-size:12px;color:#616e7c">
            The link expires ${formatDate(data.expiresAt)}. If you did not expect it, ignore this
            email.
          </p>`,
      ),
    };
  },
});
