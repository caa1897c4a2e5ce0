import { ETIMS_ENVIRONMENTS, ETIMS_STATUSES } from '../../db/schema/index.js';
import { timestamp, z } from '../../lib/zod.js';

/** A KRA PIN: a letter, nine digits, a letter (e.g. P051234567X). */
const KraPin = z
  .string()
  .trim()
  .max(11)
  .regex(/^[A-Z]\d{9}[A-Z]$/, 'a KRA PIN: a letter, nine digits, a letter')
  .meta({ description: 'The taxpayer PIN; write-only (never returned, never logged)' });

export const EtimsSettingsBody = z
  .strictObject({
    kraPin: KraPin,
    environment: z.enum(ETIMS_ENVIRONMENTS),
    enabled: z.boolean(),
  })
  .meta({ id: 'EtimsSettingsBody' });
export type EtimsSettingsBody = z.infer<typeof EtimsSettingsBody>;

const EtimsDevice = z
  .object({
    locationId: z.uuid(),
    etimsBranchId: z.string().max(2),
    initialized: z.boolean(),
    sdcId: z.string().max(20).nullable().describe('The control unit id printed on receipts'),
    mrcNo: z.string().max(20).nullable(),
    initializedAt: timestamp().nullable(),
  })
  .meta({ id: 'EtimsDevice' });

export const EtimsSettings = z
  .object({
    configured: z.boolean().describe('False until PUT /business/etims'),
    kraPinHint: z
      .string()
      .max(4)
      .nullable()
      .describe('The last 3 characters of the PIN, to recognise it (the PIN is never returned)'),
    environment: z.enum(ETIMS_ENVIRONMENTS).nullable(),
    enabled: z.boolean(),
    enabledAt: timestamp()
      .nullable()
      .describe('When it was last switched on: only sales from then on are transmitted'),
    devices: z.array(EtimsDevice).max(1000),
  })
  .meta({ id: 'EtimsSettings' });
export type EtimsSettings = z.infer<typeof EtimsSettings>;

export const EtimsInitializeResult = z
  .object({
    devices: z
      .array(
        EtimsDevice.extend({
          result: z.enum(['initialized', 'already-initialized', 'failed']),
          error: z.object({ code: z.string().max(20), message: z.string().max(500) }).nullable(),
        }),
      )
      .max(1000),
  })
  .meta({ id: 'EtimsInitializeResult' });
export type EtimsInitializeResult = z.infer<typeof EtimsInitializeResult>;

/** The eTIMS block of a sale or return (API.md "KRA eTIMS"); null when eTIMS is off for it. */
export const EtimsBlock = z
  .object({
    status: z.enum(ETIMS_STATUSES),
    invoiceNumber: z
      .int()
      .nullable()
      .describe('Our invoice number (invcNo) at KRA, per branch; null until first sent'),
    receiptNumber: z.int().nullable().describe("KRA's receipt number (curRcptNo)"),
    totalReceiptNumber: z.int().nullable().describe('totRcptNo'),
    internalData: z.string().max(26).nullable(),
    signature: z.string().max(16).nullable().describe('rcptSign'),
    sdcId: z.string().max(20).nullable().describe('The control unit id (printed as CU ID)'),
    sdcDateTime: z.string().max(14).nullable().describe('yyyyMMddhhmmss, East Africa Time'),
    qrUrl: z.url().max(300).nullable().describe("KRA's receipt check link, for the QR code"),
    creditNote: z
      .object({
        status: z.enum(ETIMS_STATUSES),
        invoiceNumber: z.int().nullable(),
        receiptNumber: z.int().nullable(),
        signature: z.string().max(16).nullable(),
      })
      .nullable()
      .optional()
      .describe('A voided sale: the credit note that cancels it at KRA'),
    error: z
      .object({ code: z.string().max(20), message: z.string().max(500) })
      .optional()
      .describe("KRA's refusal (status failed)"),
  })
  .meta({ id: 'EtimsBlock' });
export type EtimsBlock = z.infer<typeof EtimsBlock>;

export const EtimsSaleParams = z.object({ id: z.uuid() });
