import type { EmailTemplate } from '../template.js';
import { etimsFailedTemplate } from './etims-failed.js';
import { inviteTemplate } from './invite.js';
import { lowStockDigestTemplate } from './low-stock-digest.js';
import { passwordResetTemplate } from './password-reset.js';
import { saleReceiptTemplate } from './sale-receipt.js';
import { subscriptionReceiptTemplate } from './subscription-receipt.js';
import { webhookDisabledTemplate } from './webhook-disabled.js';

/** Every email the outbox can ask for, by template name (the outbox row's `type`). */
export const emailTemplates: ReadonlyMap<string, EmailTemplate> = new Map(
  [
    inviteTemplate,
    passwordResetTemplate,
    saleReceiptTemplate,
    subscriptionReceiptTemplate,
    lowStockDigestTemplate,
    webhookDisabledTemplate,
    etimsFailedTemplate,
  ].map((template) => [template.name, template]),
);
