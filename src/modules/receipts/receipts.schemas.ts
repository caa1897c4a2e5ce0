import { z } from '../../lib/zod.js';
import { MAX_LINES, MAX_PAYMENTS } from '../sales/sales.schemas.js';

export const ReceiptQuery = z.strictObject({
  format: z
    .enum(['json', 'text', 'escpos'])
    .default('json')
    .describe('`json` (this document), `text` (fixed-width, UTF-8) or `escpos` (printer bytes)'),
  width: z
    .enum(['58', '80'])
    .default('80')
    .transform((value) => Number(value) as 58 | 80)
    .describe('Paper width in millimetres: 58 mm prints 32 columns, 80 mm prints 48'),
});

const shortText = z.string().max(300);

const EtimsReceiptBlock = z
  .object({
    receiptNumber: z.union([z.int(), z.string().max(50)]),
    totalReceiptNumber: z.union([z.int(), z.string().max(50)]),
    internalData: z.string().max(200),
    signature: z.string().max(200),
    sdcDateTime: z.string().max(40),
    qrUrl: z.string().max(500),
    sdcId: z.string().max(50).nullable().optional(),
  })
  .meta({ id: 'EtimsReceiptBlock' });

/** A receipt as data (`format=json`): what the printed forms print, money in cents. */
export const Receipt = z
  .object({
    kind: z.enum(['sale', 'return']),
    title: shortText,
    business: z.object({ name: shortText, phone: shortText.nullable() }),
    location: z.object({
      id: z.uuid().nullable(),
      name: shortText,
      address: shortText.nullable(),
      phone: shortText.nullable(),
    }),
    number: z.int(),
    receiptNumber: shortText.nullable(),
    originalSaleNumber: z.int().nullable(),
    occurredAt: z.string().max(40),
    localTime: z.string().max(20).describe('`occurredAt` on the shop clock, `YYYY-MM-DD HH:MM`'),
    timezone: z.string().max(64),
    cashier: z.object({ id: z.uuid(), name: shortText }),
    lines: z
      .array(
        z.object({
          name: shortText,
          sku: shortText.nullable(),
          quantity: z.number(),
          unitPrice: z.int(),
          discount: z.int(),
          total: z.int(),
          taxRate: z.int(),
        }),
      )
      .max(MAX_LINES),
    subtotal: z.int(),
    discount: z.int(),
    tax: z.int(),
    total: z.int(),
    vat: z
      .array(z.object({ rate: z.int(), taxable: z.int(), tax: z.int() }))
      .max(MAX_LINES)
      .describe(
        'VAT per rate (basis points): taxable excludes the VAT; taxable + tax add up to the total',
      ),
    payments: z
      .array(
        z.object({ method: z.string().max(20), amount: z.int(), reference: shortText.nullable() }),
      )
      .max(MAX_PAYMENTS),
    change: z.int(),
    voided: z.boolean(),
    etims: EtimsReceiptBlock.nullable().describe('The KRA eTIMS signature, once KRA signed'),
  })
  .meta({ id: 'Receipt' });
