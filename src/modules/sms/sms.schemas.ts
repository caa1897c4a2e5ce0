import { SMS_KINDS, SMS_STATUSES } from '../../db/schema/index.js';
import { PageQuery, pageSchema } from '../../lib/cursor.js';
import { timestamp, z } from '../../lib/zod.js';
import { PhoneNumberInput } from '../../mpesa/phone.js';

export const SmsMessage = z
  .object({
    id: z.uuid(),
    kind: z.enum(SMS_KINDS),
    phone: z
      .string()
      .max(16)
      .describe('2547XXXXXXXX / 2541XXXXXXXX (empty once the customer was erased)'),
    message: z.string().max(1000),
    saleId: z.uuid().nullable(),
    customerId: z.uuid().nullable(),
    status: z
      .enum(SMS_STATUSES)
      .describe('queued → sent (Africa’s Talking took it) → delivered | failed'),
    failureReason: z.string().max(200).nullable(),
    cost: z
      .string()
      .max(32)
      .nullable()
      .describe('As Africa’s Talking billed it, e.g. "KES 0.8000"'),
    attempts: z.int(),
    createdAt: timestamp(),
    sentAt: timestamp().nullable(),
    deliveredAt: timestamp().nullable(),
  })
  .meta({ id: 'SmsMessage', description: 'An SMS the business sent, with its delivery status.' });
export type SmsMessage = z.infer<typeof SmsMessage>;

export const SmsPage = pageSchema(SmsMessage, 'SmsPage');
export const SmsListQuery = z.object({ ...PageQuery });
export type SmsListQuery = z.infer<typeof SmsListQuery>;

export const ReceiptSmsBody = z
  .strictObject({
    phone: PhoneNumberInput.optional().describe(
      "Where to send it; omitted: the sale's customer's phone (none → 422)",
    ),
  })
  .meta({ id: 'ReceiptSmsBody' });
export type ReceiptSmsBody = z.infer<typeof ReceiptSmsBody>;

export const SaleIdParams = z.object({ id: z.uuid() });
export const CustomerIdParams = z.object({ id: z.uuid() });
export const DeliveryReportParams = z.object({ token: z.string().max(128) });
/** Africa's Talking's form fields (id, status, phoneNumber…): read by parseDeliveryReport. */
export const DeliveryReportBody = z.record(z.string().max(64), z.unknown());
export const DeliveryReportAck = z
  .object({ received: z.boolean() })
  .meta({ id: 'SmsDeliveryReportAck' });
