import { z } from 'zod';
import { defineArea } from './area.js';

/** Outgoing mail: SMTP when set, otherwise (development) `.eml` files in MAIL_DIR. */
export const emailArea = defineArea({
  schema: z.object({
    SMTP_URL: z.url().optional(),
    MAIL_FROM: z.string().default('Backend POS <no-reply@pos.local>'),
    MAIL_DIR: z.string().default('.data/mail'),
  }),
  build: (env) => ({ mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM, dir: env.MAIL_DIR } }),
});
