import { NextCursor, PageQuery, pageItems } from '../../lib/cursor.js';
import { timestamp, z } from '../../lib/zod.js';
import { WEBHOOK_EVENTS } from './webhook-events.js';

const URL_MAX = 2048;
const DESCRIPTION_MAX = 500;
const EVENT_NAME_MAX = 64;
/** Server-written: 'disabled by the owner', 'The endpoint answered 410 Gone', … */
const DISABLED_REASON_MAX = 200;
/** webhook-delivery.ts keeps the first 500 characters of a failure. */
const ATTEMPT_ERROR_MAX = 500;
/** A delivery shows its latest attempts (a retried delivery can gather more over time). */
export const MAX_LISTED_ATTEMPTS = 100;

const EventsList = z
  .array(z.enum([...WEBHOOK_EVENTS, '*']))
  .min(1)
  .max(WEBHOOK_EVENTS.length + 1)
  .refine((events) => !events.includes('*') || events.length === 1, {
    message: 'use ["*"] alone for every event',
  })
  .transform((events) => [...new Set(events)])
  .openapi({ description: 'Event names to receive, or ["*"] for every event' });

const WebhookUrl = z.url().max(URL_MAX).openapi({ example: 'https://example.com/hooks/pos' });

export const CreateWebhookBody = z.strictObject({
  url: WebhookUrl,
  events: EventsList,
  description: z.string().max(DESCRIPTION_MAX).optional(),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const UpdateWebhookBody = z
  .strictObject({
    url: WebhookUrl.optional(),
    events: EventsList.optional(),
    description: z.string().max(DESCRIPTION_MAX).nullable().optional(),
    /** true re-enables an endpoint disabled after failures; false pauses deliveries. */
    enabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'name at least one field' });
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;

export const Webhook = z
  .object({
    id: z.uuid(),
    url: z.string().max(URL_MAX),
    description: z.string().max(DESCRIPTION_MAX).nullable(),
    events: z
      .array(z.string().max(EVENT_NAME_MAX))
      .max(WEBHOOK_EVENTS.length + 1)
      .describe('Event names, or ["*"] for every event'),
    enabled: z.boolean(),
    disabledAt: timestamp().nullable(),
    disabledReason: z.string().max(DISABLED_REASON_MAX).nullable(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof Webhook>;

export const WebhookWithSecret = Webhook.extend({
  secret: z.string().max(100).openapi({
    description: 'The signing secret (`whsec_…`); shown only on create and rotate',
  }),
}).meta({ id: 'WebhookWithSecret' });

export const WebhookList = z
  .object({ data: pageItems(Webhook), nextCursor: NextCursor })
  .meta({ id: 'WebhookList' });

export const DeliveryAttempt = z
  .object({
    at: timestamp(),
    status: z.enum(['succeeded', 'failed']),
    responseStatus: z.int().min(100).max(999).optional(),
    durationMs: z.int().min(0),
    error: z.string().max(ATTEMPT_ERROR_MAX).optional(),
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const Delivery = z
  .object({
    id: z.uuid(),
    eventId: z.uuid().openapi({ description: 'The webhook-id header: stable across retries' }),
    eventType: z.string().max(EVENT_NAME_MAX),
    status: z.enum(['pending', 'succeeded', 'dead']),
    nextAttemptAt: timestamp().optional(),
    createdAt: timestamp(),
    attempts: z
      .array(DeliveryAttempt)
      .max(MAX_LISTED_ATTEMPTS)
      .describe(`The latest ${MAX_LISTED_ATTEMPTS} attempts, oldest first`),
  })
  .meta({ id: 'WebhookDelivery' });
export type Delivery = z.infer<typeof Delivery>;

export const DeliveryList = z
  .object({ data: pageItems(Delivery), nextCursor: NextCursor })
  .meta({ id: 'WebhookDeliveryList' });

export const WebhookParams = z.object({ id: z.uuid() });
export const DeliveryParams = z.object({ id: z.uuid(), deliveryId: z.uuid() });

export const ListQuery = z.object(PageQuery);
