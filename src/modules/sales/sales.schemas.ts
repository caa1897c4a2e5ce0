import { ProblemSchema } from '../../openapi.js';
import { z } from '../../lib/zod.js';
import { PAYMENT_METHODS, SALE_STATUSES } from '../../db/schema/index.js';
import { MAX_SALE_AMOUNT, hasAtMostThreeDecimals } from './sales.rules.js';

const cents = (description: string) =>
  z.int().min(0).max(MAX_SALE_AMOUNT).describe(`${description} (integer cents)`);

const SaleLineInput = z.strictObject({
  productId: z.uuid(),
  quantity: z
    .number()
    .gt(0)
    .max(1_000_000)
    .refine(hasAtMostThreeDecimals, { message: 'At most 3 decimals' })
    .describe(
      '> 0, ≤ 1,000,000, at most 3 decimals (0.5 kg). Returns are voids, not negative lines.',
    ),
  unitPrice: cents(
    'The price the customer paid per unit, VAT-inclusive; omitted → the current catalog price',
  )
    .max(10_000_000_000)
    .optional(),
  discount: cents('Off this line, ≤ round(quantity × unitPrice)').optional(),
});

const PaymentInput = z.strictObject({
  method: z.enum(PAYMENT_METHODS),
  amount: cents('Tendered; only cash may exceed what is left to pay (the excess is change)'),
  reference: z.string().trim().min(1).max(100).optional().describe('e.g. the M-Pesa receipt code'),
});

export const CreateSaleBody = z
  .strictObject({
    clientRequestId: z
      .uuid()
      .describe('Made by the POS when the sale is rung up (any UUID version); the idempotency key'),
    occurredAt: z.iso
      .datetime({ offset: true })
      .describe('When the sale happened on the till (ISO 8601 with offset); ≤ 5 min in the future'),
    receiptNumber: z.string().trim().min(1).max(64).optional().describe("The device's own number"),
    lines: z.array(SaleLineInput).min(1).max(200),
    discount: cents('Off the whole sale, spread over lines in proportion').optional(),
    payments: z.array(PaymentInput).min(1).max(10),
    customerPhone: z.string().trim().min(1).max(32).optional(),
    note: z.string().max(1000).optional(),
    total: cents(
      'The total the device computed; checked against the server (TOTALS_MISMATCH)',
    ).optional(),
  })
  .meta({ id: 'CreateSaleBody' });
export type CreateSaleBody = z.infer<typeof CreateSaleBody>;

const SaleLine = z
  .object({
    id: z.uuid(),
    productId: z.uuid(),
    name: z.string().describe('Snapshot at receipt'),
    sku: z.string().nullable().describe('Snapshot at receipt'),
    quantity: z.number(),
    unitPrice: z.int().describe('Paid per unit, cents'),
    catalogPrice: z.int().describe('The catalog price when the server received the sale'),
    discount: z.int().describe('Line discount, cents'),
    tax: z.int().describe('VAT contained in the line after its share of the sale discount'),
    total: z.int().describe('round(quantity × unitPrice) − discount'),
  })
  .meta({ id: 'SaleLine' });

const SalePayment = z
  .object({
    method: z.enum(PAYMENT_METHODS),
    amount: z.int(),
    reference: z.string().nullable(),
  })
  .meta({ id: 'SalePayment' });

export const Sale = z
  .object({
    id: z.uuid(),
    number: z.int().describe('Gap-free per-business sequence, assigned on acceptance'),
    receiptNumber: z.string().nullable(),
    clientRequestId: z.uuid(),
    status: z.enum(SALE_STATUSES),
    occurredAt: z.iso.datetime(),
    receivedAt: z.iso.datetime(),
    cashierId: z.uuid(),
    subtotal: z.int().describe('Σ line totals, VAT-inclusive'),
    discount: z.int(),
    tax: z.int().describe('Σ line taxes, contained in total (never added)'),
    total: z.int().describe('subtotal − discount'),
    change: z.int().describe('Cash tendered beyond the total'),
    lines: z.array(SaleLine),
    payments: z.array(SalePayment),
    customerPhone: z.string().nullable(),
    note: z.string().nullable(),
    voidedAt: z.iso.datetime().nullable(),
    voidReason: z.string().nullable(),
  })
  .meta({ id: 'Sale' });
export type Sale = z.infer<typeof Sale>;

export const SyncSalesBody = z
  .strictObject({
    sales: z
      .array(
        z.unknown().openapi({
          description:
            'A CreateSaleBody. Each element is validated on its own: a malformed one is rejected, the others still run.',
          allOf: [{ $ref: '#/components/schemas/CreateSaleBody' }],
        }),
      )
      .max(100),
  })
  .meta({ id: 'SyncSalesBody' });

export const SyncSaleResult = z
  .object({
    clientRequestId: z
      .string()
      .nullable()
      .describe('As sent; null when the element had no string clientRequestId'),
    status: z.enum(['created', 'duplicate', 'rejected']),
    sale: Sale.optional(),
    error: ProblemSchema.optional(),
  })
  .meta({
    id: 'SyncSaleResult',
    description:
      '`sale` for created and duplicate; `error` for rejected: the problem document POST /sales would have answered.',
  });
export type SyncSaleResult = z.infer<typeof SyncSaleResult>;

export const SyncSalesResponse = z
  .object({ results: z.array(SyncSaleResult).describe('One per input sale, in input order') })
  .meta({ id: 'SyncSalesResponse' });

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected YYYY-MM-DD')
  .refine(
    (value) =>
      !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
      new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
    {
      message: 'Not a calendar day',
    },
  );

export const ListSalesQuery = z
  .object({
    from: day.optional().describe('Inclusive day (business timezone) of occurredAt'),
    to: day.optional().describe('Inclusive day (business timezone) of occurredAt'),
    status: z.enum(SALE_STATUSES).optional(),
    cashierId: z.uuid().optional(),
    cursor: z.string().max(200).optional(),
    limit: z
      .string()
      .regex(/^\d+$/, 'Expected a positive integer')
      .transform(Number)
      .refine((value) => value >= 1, 'Must be at least 1')
      .transform((value) => Math.min(value, 200))
      .optional()
      .describe('Default 50; above 200 is clamped to 200'),
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    message: '`from` must not be after `to`',
    path: ['from'],
  });
export type ListSalesQuery = z.infer<typeof ListSalesQuery>;

export const SaleList = z
  .object({ data: z.array(Sale), nextCursor: z.string().nullable() })
  .meta({ id: 'SaleList' });

export const SaleParams = z.object({ id: z.uuid() });

export const VoidSaleBody = z
  .strictObject({ reason: z.string().trim().min(1).max(500) })
  .meta({ id: 'VoidSaleBody' });

export const ReceiptEmailBody = z
  .strictObject({ email: z.email().max(254) })
  .meta({ id: 'ReceiptEmailBody' });
