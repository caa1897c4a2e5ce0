import { PAYMENT_PURPOSES, PAYMENT_STATUSES, SUBSCRIPTION_PLANS } from '../../db/schema/index.js';
import { timestamp, z } from '../../lib/zod.js';
import { PhoneNumberInput } from '../../mpesa/phone.js';

// Daraja's per-transaction ceiling: KSh 250,000.
const MAX_STK_AMOUNT = 25_000_000;

/**
 * Text that comes from Safaricom (or from us about it): bounded when presented
 * (payment-resource.ts), whatever Daraja sent.
 */
export const PAYMENT_TEXT_MAX = {
  phoneNumber: 12,
  checkoutRequestId: 100,
  mpesaReceiptNumber: 32,
  customerMessage: 500,
  resultDesc: 500,
} as const;

export const Payment = z
  .object({
    id: z.uuid(),
    purpose: z.enum(PAYMENT_PURPOSES),
    status: z
      .enum(PAYMENT_STATUSES)
      .describe(
        'pending until M-Pesa answers; needs_review when the money received disagrees with the request (a person must look)',
      ),
    amount: z.int().min(0).describe('Cents (whole shillings)'),
    phoneNumber: z.string().max(PAYMENT_TEXT_MAX.phoneNumber).meta({ example: '254712345678' }),
    checkoutRequestId: z.string().max(PAYMENT_TEXT_MAX.checkoutRequestId).nullable(),
    customerMessage: z.string().max(PAYMENT_TEXT_MAX.customerMessage).nullable(),
    mpesaReceiptNumber: z
      .string()
      .max(PAYMENT_TEXT_MAX.mpesaReceiptNumber)
      .optional()
      .describe(
        'Absent while pending, on failure, and when the success is known only from the status query',
      ),
    resultCode: z
      .int()
      .optional()
      .describe('Daraja ResultCode: 0 paid, 1032 cancelled, 1 insufficient funds…'),
    resultDesc: z.string().max(PAYMENT_TEXT_MAX.resultDesc).optional(),
    createdAt: timestamp(),
    completedAt: timestamp().optional(),
  })
  .meta({ id: 'Payment', description: 'An M-Pesa STK-push payment.' });
export type Payment = z.infer<typeof Payment>;

export const SubscriptionStkPushBody = z.strictObject({
  plan: z.enum(SUBSCRIPTION_PLANS),
  phoneNumber: PhoneNumberInput,
});
export type SubscriptionStkPushBody = z.infer<typeof SubscriptionStkPushBody>;

export const SaleStkPushBody = z.strictObject({
  amount: z
    .int()
    .min(100)
    .max(MAX_STK_AMOUNT)
    .multipleOf(100, { message: 'M-Pesa amounts are whole shillings: a multiple of 100 cents' })
    .describe('Cents; whole shillings only')
    .openapi({ multipleOf: 100 }),
  phoneNumber: PhoneNumberInput,
  reference: z
    .string()
    .trim()
    .min(1)
    .max(12)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'letters, digits, space, dot, dash or underscore')
    .describe('Shown on the customer’s prompt (M-Pesa AccountReference, ≤ 12 characters)'),
});
export type SaleStkPushBody = z.infer<typeof SaleStkPushBody>;

export const PaymentParams = z.object({ id: z.string().max(64) });
export const CallbackParams = z.object({ token: z.string().max(128) });

/** Whatever Safaricom sent: stored raw, parsed by the worker. */
export const CallbackBody = z.record(z.string(), z.unknown());

export const CallbackAck = z
  .object({ ResultCode: z.literal(0), ResultDesc: z.literal('Accepted') })
  .meta({ id: 'MpesaCallbackAck' });
