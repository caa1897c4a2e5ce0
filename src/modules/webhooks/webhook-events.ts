/** Every event a webhook endpoint can subscribe to (API.md "Webhooks"). */
export const WEBHOOK_EVENTS = [
  'sale.created',
  'sale.voided',
  'sale.etims_signed',
  'sale.etims_failed',
  'product.created',
  'product.updated',
  'product.archived',
  'inventory.low_stock',
  'payment.succeeded',
  'payment.failed',
  'subscription.activated',
  'webhook.test',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
