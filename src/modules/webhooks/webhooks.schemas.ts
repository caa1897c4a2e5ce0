import { PageQuery } from '../../lib/cursor.js';
import { z } from '../../lib/zod.js';
import { WEBHOOK_EVENTS } from './webhook-events.js';

const EventsList = z
  .array(z.enum([...WEBHOOK_EVENTS, '*']))
  .min(1)
  .max(WEBHOOK_EVENTS.length + 1)
  .refine((events) => !events.includes('*') || events.length === 1, {
    message: 'use ["*"] alone for every event',
  })
  .transform((events) => [...new Set(events)])
  .openapi({ description: 'Event names to receive, or ["*"] for every event' });

const WebhookUrl = z.url().max(2048).openapi({ example: 'https://example.com/hooks/pos' });

export const CreateWebhookBody = z.strictObject({
  url: WebhookUrl,
  events: EventsList,
  description: z.string().max(500).optional(),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const UpdateWebhookBody = z
  .strictObject({
    url: WebhookUrl.optional(),
    events: EventsList.optional(),
    description: z.string().max(500).nullable().optional(),
    /** true re-enables an endpoint disabled after failures; false pauses deliveries. */
    enabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'name at least one field' });
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;

export const Webhook = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledAt: z.iso.datetime().nullable(),
    disabledReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof Webhook>;

export const WebhookWithSecret = Webhook.extend({
  secret: z.string().openapi({
    description: 'The signing secret (`whsec_…`); shown only on create and rotate',
  }),
}).meta({ id: 'WebhookWithSecret' });

export const WebhookList = z
  .object({ data: z.array(Webhook), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookList' });

export const DeliveryAttempt = z
  .object({
    at: z.iso.datetime(),
    status: z.enum(['succeeded', 'failed']),
    responseStatus: z.number().int().optional(),
    durationMs: z.number().int(),
    error: z.string().optional(),
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const Delivery = z
  .object({
    id: z.uuid(),
    eventId: z.uuid().openapi({ description: 'The webhook-id header: stable across retries' }),
    eventType: z.string(),
    status: z.enum(['pending', 'succeeded', 'dead']),
    nextAttemptAt: z.iso.datetime().optional(),
    createdAt: z.iso.datetime(),
    attempts: z.array(DeliveryAttempt),
  })
  .meta({ id: 'WebhookDelivery' });
export type Delivery = z.infer<typeof Delivery>;

export const DeliveryList = z
  .object({ data: z.array(Delivery), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookDeliveryList' });

export const WebhookParams = z.object({ id: z.uuid() });
export const DeliveryParams = z.object({ id: z.uuid(), deliveryId: z.uuid() });

export const ListQuery = z.object(PageQuery);
