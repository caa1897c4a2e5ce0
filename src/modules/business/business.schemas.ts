import { SUBSCRIPTION_PLANS } from '../../db/schema/index.js';
import { NO_CONTROL_CHARACTERS, timestamp, z } from '../../lib/zod.js';

const isTimeZone = (value: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

/**
 * The shape of an IANA time zone name (Area/Location, Etc/GMT+3, UTC); which names exist is
 * then Intl's call. Also keeps out the UTC offsets (+03:00) that Intl accepts but that are
 * not zones (no daylight rules, no history).
 */
const IANA_TIME_ZONE = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

const BUSINESS_NAME_MAX = 120;
const PHONE_MAX = 16;
const TIMEZONE_MAX = 64;

export const BusinessName = z
  .string()
  .trim()
  .min(1)
  .max(BUSINESS_NAME_MAX)
  .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
  .openapi({ example: 'Duka la Mama Njeri' });

export const PhoneNumber = z
  .string()
  .regex(/^\+?[0-9]{9,15}$/, 'must be 9–15 digits, optionally starting with +')
  .max(PHONE_MAX)
  .openapi({ example: '254712345678' });

export const Business = z
  .object({
    id: z.uuid(),
    name: z.string().max(BUSINESS_NAME_MAX),
    phone: z.string().max(PHONE_MAX).nullable(),
    currency: z.literal('KES'),
    timezone: z.string().max(TIMEZONE_MAX).openapi({ example: 'Africa/Nairobi' }),
    lowStockEmails: z.boolean(),
    createdAt: timestamp(),
    updatedAt: timestamp(),
  })
  .meta({ id: 'Business' });
export type Business = z.infer<typeof Business>;

export const UpdateBusinessBody = z
  .strictObject({
    name: BusinessName.optional(),
    phone: PhoneNumber.nullable().optional(),
    timezone: z
      .string()
      .max(TIMEZONE_MAX)
      .regex(IANA_TIME_ZONE, 'must be an IANA time zone such as Africa/Nairobi')
      .refine(isTimeZone, 'must be an IANA time zone such as Africa/Nairobi')
      .openapi({
        description:
          'An IANA time zone name known to the server (tz database), e.g. Africa/Nairobi',
        example: 'Africa/Nairobi',
      })
      .optional(),
    lowStockEmails: z.boolean().optional(),
  })
  .meta({ id: 'UpdateBusiness' });
export type UpdateBusinessBody = z.infer<typeof UpdateBusinessBody>;

export const Subscription = z
  .object({
    plan: z.enum(SUBSCRIPTION_PLANS).nullable().describe('null while trialing'),
    status: z.enum(['trialing', 'active', 'past_due', 'expired']),
    currentPeriodEnd: timestamp().describe('While trialing: the end of the 14-day trial'),
  })
  .meta({ id: 'Subscription' });
export type Subscription = z.infer<typeof Subscription>;
