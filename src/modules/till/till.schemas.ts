import { C2B_PAYMENT_STATUSES } from './till.rules.js';
import { PageQuery, pageSchema } from '../../lib/cursor.js';
import { TILL_ENVIRONMENTS, TILL_TYPES } from '../../db/schema/index.js';
import { NO_CONTROL_CHARACTERS, timestamp, z } from '../../lib/zod.js';

const secret = (what: string) =>
  z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(NO_CONTROL_CHARACTERS, 'no control characters')
    .describe(`${what}; write-only: stored encrypted, never returned`);

/** `PUT /business/mpesa`: the business's own Daraja app and shortcode. */
export const PutTillSettingsBody = z
  .strictObject({
    environment: z.enum(TILL_ENVIRONMENTS),
    type: z.enum(TILL_TYPES).describe('paybill: customers pay the shortcode; till: Buy Goods'),
    shortcode: z
      .string()
      .regex(/^\d{5,8}$/, 'a 5–8 digit shortcode')
      .max(8)
      .describe('The PayBill number, or the head office / store number of a till'),
    tillNumber: z
      .string()
      .regex(/^\d{5,8}$/, 'a 5–8 digit till number')
      .max(8)
      .optional()
      .describe('Buy Goods: the till number customers pay (STK PartyB); defaults to the shortcode'),
    consumerKey: secret('The Daraja app’s consumer key'),
    consumerSecret: secret('The Daraja app’s consumer secret'),
    passkey: secret('The Lipa na M-Pesa Online passkey of the shortcode'),
  })
  .meta({ id: 'PutTillSettings' });
export type PutTillSettingsBody = z.infer<typeof PutTillSettingsBody>;

const URL_MAX = 300;

export const TillSettings = z
  .object({
    configured: z.boolean(),
    environment: z.enum(TILL_ENVIRONMENTS).nullable(),
    type: z.enum(TILL_TYPES).nullable(),
    shortcode: z.string().max(8).nullable(),
    tillNumber: z.string().max(8).nullable(),
    c2bRegisteredAt: timestamp().nullable(),
    c2bConfirmationUrl: z
      .string()
      .max(URL_MAX)
      .nullable()
      .describe('Secret (holds the business’s callback token): what Safaricom POSTs payments to'),
    c2bValidationUrl: z.string().max(URL_MAX).nullable(),
  })
  .meta({ id: 'TillSettings', description: 'The business’s own M-Pesa till or paybill.' });
export type TillSettings = z.infer<typeof TillSettings>;

export const RegisterC2bResult = z
  .object({
    c2bRegisteredAt: timestamp(),
    c2bConfirmationUrl: z.string().max(URL_MAX),
    c2bValidationUrl: z.string().max(URL_MAX),
    responseDescription: z.string().max(500),
  })
  .meta({ id: 'RegisterC2bResult' });

export const TillPayment = z
  .object({
    transId: z.string().max(20).describe('The M-Pesa receipt number (TransID)'),
    amount: z.int().min(0).describe('Cents'),
    msisdn: z
      .string()
      .max(100)
      .describe('As Safaricom sent it: masked ("2547 ***** 126") or a SHA-256 hash'),
    firstName: z.string().max(100),
    billRefNumber: z
      .string()
      .max(100)
      .describe('The account number typed (PayBill); empty for Buy Goods'),
    transTime: z.string().max(14).describe('YYYYMMDDHHmmss, East Africa Time, as sent'),
    status: z.enum(C2B_PAYMENT_STATUSES),
    saleId: z.uuid().optional().describe('The sale that claimed it'),
    customerPaymentId: z
      .uuid()
      .optional()
      .describe('The payment on account (POST /customers/{id}/payments) that claimed it'),
  })
  .meta({ id: 'TillPayment', description: 'A payment a customer made into the business’s till.' });
export type TillPayment = z.infer<typeof TillPayment>;

export const TillPaymentListQuery = z.object({
  ...PageQuery,
  status: z.enum(C2B_PAYMENT_STATUSES).optional(),
  amount: z
    .string()
    .regex(/^\d{1,10}$/, 'cents')
    .max(10)
    .transform(Number)
    .optional()
    .openapi({ description: 'Only payments of exactly this amount (cents)' }),
  since: timestamp().optional().openapi({ description: 'Only payments received at or after' }),
});
export type TillPaymentListQuery = z.infer<typeof TillPaymentListQuery>;

export const TillPaymentPage = pageSchema(TillPayment, 'TillPaymentPage');

export const C2bCallbackParams = z.object({ token: z.string().max(128) });
/** Whatever Safaricom sent: stored raw, read by the worker. */
export const C2bCallbackBody = z.record(z.string(), z.unknown());
export const C2bCallbackAck = z
  .object({ ResultCode: z.string().max(10), ResultDesc: z.string().max(100) })
  .meta({ id: 'C2bCallbackAck' });
