import { z } from 'zod';
import { defineArea } from './area.js';

/** The AMQP URL with its password replaced, for logs and error messages. */
export function redactAmqpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable AMQP URL]';
  }
}

/**
 * RabbitMQ: the company's event hub. With AMQP_URL set the worker publishes every event
 * (the webhook events) to a durable topic exchange; unset, nothing is published.
 */
export const amqpArea = defineArea({
  schema: z.object({
    AMQP_URL: z
      .url()
      .refine((url) => /^amqps?:\/\//i.test(url), { message: 'must be an amqp:// or amqps:// URL' })
      .optional(),
    AMQP_EXCHANGE: z
      .string()
      .regex(/^[a-zA-Z0-9._:-]{1,200}$/, 'letters, digits, dot, dash, underscore, colon')
      .default('backend-api.events'),
  }),
  build: (env) => ({
    amqp: {
      /** Unset: the publisher does not run. */
      url: env.AMQP_URL,
      /** Durable topic exchange; routing key = event type. */
      exchange: env.AMQP_EXCHANGE,
    },
  }),
});
