import { z } from 'zod';
import { AT_HOSTS } from '../sms/at-wire.js';
import { defineArea, integer, trimmedString } from './area.js';

/**
 * SMS receipts and reminders through Africa's Talking. Without AT_API_KEY nothing is sent:
 * the SMS log shows each message `failed` ("SMS is not configured"). AT_BASE_URL overrides
 * the host (default: AT's sandbox for the `sandbox` username, else the live API) — the local
 * simulator (`pnpm sms:simulator`) in development and tests. Delivery reports are accepted at
 * `POST /sms/delivery-reports/{AT_DELIVERY_REPORT_TOKEN}` only: set that URL in AT's
 * dashboard; without the token every delivery report is 404.
 */
export const smsArea = defineArea({
  schema: z.object({
    AT_USERNAME: trimmedString.min(1).max(100).default('sandbox'),
    AT_API_KEY: trimmedString.optional(),
    AT_SENDER_ID: trimmedString.max(11).optional(),
    AT_BASE_URL: z.url().optional(),
    AT_TIMEOUT_MS: integer(100, 60_000).default(10_000),
    AT_DELIVERY_REPORT_TOKEN: trimmedString
      .min(32, 'must be at least 32 characters (openssl rand -hex 24)')
      .max(128)
      .regex(/^[A-Za-z0-9_-]+$/, 'must be URL-safe: letters, digits, - and _')
      .optional(),
  }),
  build: (env) => ({
    sms: {
      baseUrl:
        env.AT_BASE_URL?.replace(/\/$/, '') ??
        (env.AT_USERNAME === 'sandbox' ? AT_HOSTS.sandbox : AT_HOSTS.live),
      username: env.AT_USERNAME,
      apiKey: env.AT_API_KEY,
      senderId: env.AT_SENDER_ID,
      timeoutMs: env.AT_TIMEOUT_MS,
      deliveryReportToken: env.AT_DELIVERY_REPORT_TOKEN,
    },
  }),
});
