/** Every event a webhook endpoint can subscribe to (API.md "Webhooks"). */
export const WEBHOOK_EVENTS = [
  'sale.created',
  'sale.voided',
  'return.created',
  'sale.etims_signed',
  'sale.etims_failed',
  'return.etims_signed',
  'product.created',
  'product.updated',
  'product.archived',
  'inventory.low_stock',
  'customer.credit_limit_exceeded',
  'customer.payment_received',
  'payment.succeeded',
  'payment.failed',
  'payment.conflict',
  'subscription.activated',
  'webhook.test',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
