import { z } from '../../lib/zod.js';
import { button, defineTemplate, formatDate, html, layout, tokenFallback } from '../template.js';

export const PasswordResetEmail = z.object({
  to: z.email(),
  name: z.string().min(1),
  resetUrl: z.url(),
  expiresAt: z.iso.datetime({ offset: true }),
});

export const passwordResetTemplate = defineTemplate({
  name: 'password-reset',
  schema: PasswordResetEmail,
  render: (data) => {
    const subject = 'Reset your password';
    return {
      subject,
      text: [
        `Hello ${data.name},`,
        '',
        'Set a new password here:',
        data.resetUrl,
        ...tokenFallback(data.resetUrl, 'reset'),
        '',
        `The link works once and expires ${formatDate(data.expiresAt)}.`,
        'If you did not ask for it, ignore this email: your password stays the same.',
      ].join('\n'),
      html: layout(
        subject,
        html`<h1 style="font-size:20px">Reset your password</h1>
          <p>Hello ${data.name},</p>
          ${button(data.resetUrl, 'Set a new password')}
          <p style="font-size:12px;color:#616e7c">
            The link works once and expires ${formatDate(data.expiresAt)}. If you did not ask for
            it, ignore this email: your password stays the same.
          </p>`,
      ),
    };
  },
});
