import { ProblemSchema } from '../../openapi.js';
import { MAX_CURSOR_LENGTH, NextCursor, pageItems } from '../../lib/cursor.js';
import { anyUuid, threeDecimals, timestamp, z } from '../../lib/zod.js';
import { PAYMENT_METHODS, SALE_STATUSES } from '../../db/schema/index.js';
import { MAX_SALE_AMOUNT, hasAtMostThreeDecimals } from './sales.rules.js';

const cents = (description: string) =>
  z.int().min(0).max(MAX_SALE_AMOUNT).describe(`${description} (integer cents)`);

/** Money the server computed: never negative (bounded above only by safe integers). */
const computedCents = () => z.int().min(0);

export const MAX_LINES = 200;
export const MAX_PAYMENTS = 10;
const RECEIPT_NUMBER_MAX = 64;
const CUSTOMER_PHONE_MAX = 32;
const NOTE_MAX = 1000;
const VOID_REASON_MAX = 500;
const PAYMENT_REFERENCE_MAX = 100;
/** Snapshots of the product at receipt (catalog limits: name 200, sku 64). */
const LINE_NAME_MAX = 200;
const LINE_SKU_MAX = 64;
/** A rejected sync element's clientRequestId is echoed only up to this length. */
export const ECHOED_CLIENT_REQUEST_ID_MAX = 64;

const SaleLineInput = z.strictObject({
  productId: z.uuid(),
  quantity: z
    .number()
    .gt(0)
    .max(1_000_000)
    .refine(hasAtMostThreeDecimals, { message: 'At most 3 decimals' })
    .describe(
      '> 0, ≤ 1,000,000, at most 3 decimals (0.5 kg). Returns are voids, not negative lines.',
    )
    .openapi(threeDecimals),
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
  reference: z
    .string()
    .trim()
    .min(1)
    .max(PAYMENT_REFERENCE_MAX)
    .optional()
    .describe('e.g. the M-Pesa receipt code'),
});

export const CreateSaleBody = z
  .strictObject({
    locationId: z
      .uuid()
      .optional()
      .describe(
        "Where the sale was rung up; omitted → the cashier's only location, else the default. An archived location is accepted (a sale is a fact)",
      ),
    clientRequestId: anyUuid().describe(
      'Made by the POS when the sale is rung up (any UUID version); the idempotency key',
    ),
    shiftId: anyUuid()
      .optional()
      .describe(
        'The till shift it was rung up in (the id the till made when opening it). Never a reason to refuse the sale: an unknown id is kept and the sale joins the shift when it arrives; a sale reaching the server after its shift closed is counted as late and leaves the closed figures unchanged',
      ),
    occurredAt: timestamp({ offset: true }).describe(
      'When the sale happened on the till (ISO 8601 with offset); ≤ 5 min in the future',
    ),
    receiptNumber: z
      .string()
      .trim()
      .min(1)
      .max(RECEIPT_NUMBER_MAX)
      .optional()
      .describe("The device's own number"),
    lines: z.array(SaleLineInput).min(1).max(MAX_LINES),
    discount: cents('Off the whole sale, spread over lines in proportion').optional(),
    payments: z.array(PaymentInput).min(1).max(MAX_PAYMENTS),
    customerPhone: z.string().trim().min(1).max(CUSTOMER_PHONE_MAX).optional(),
    customerId: z
      .uuid()
      .optional()
      .describe('The customer with an account (POST /customers); required by a `credit` payment'),
    note: z.string().max(NOTE_MAX).optional(),
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
    name: z.string().max(LINE_NAME_MAX).describe('Snapshot at receipt'),
    sku: z.string().max(LINE_SKU_MAX).nullable().describe('Snapshot at receipt'),
    quantity: z.number(),
    unitPrice: computedCents().describe('Paid per unit, cents'),
    catalogPrice: computedCents().describe('The catalog price when the server received the sale'),
    discount: computedCents().describe('Line discount, cents'),
    tax: computedCents().describe('VAT contained in the line after its share of the sale discount'),
    total: computedCents().describe('round(quantity × unitPrice) − discount'),
  })
  .meta({ id: 'SaleLine' });

const SalePayment = z
  .object({
    method: z.enum(PAYMENT_METHODS),
    amount: computedCents(),
    reference: z.string().max(PAYMENT_REFERENCE_MAX).nullable(),
  })
  .meta({ id: 'SalePayment' });

export const Sale = z
  .object({
    id: z.uuid(),
    number: z.int().min(1).describe('Gap-free per-business sequence, assigned on acceptance'),
    receiptNumber: z.string().max(RECEIPT_NUMBER_MAX).nullable(),
    clientRequestId: anyUuid(),
    status: z.enum(SALE_STATUSES),
    occurredAt: timestamp(),
    receivedAt: timestamp(),
    cashierId: z.uuid(),
    locationId: z
      .uuid()
      .nullable()
      .describe('The location that sold (null only on sales older than branches)'),
    shiftId: anyUuid().nullable().describe('The till shift, as sent (null when none was sent)'),
    subtotal: computedCents().describe('Σ line totals, VAT-inclusive'),
    discount: computedCents(),
    tax: computedCents().describe('Σ line taxes, contained in total (never added)'),
    total: computedCents().describe('subtotal − discount'),
    change: computedCents().describe('Cash tendered beyond the total'),
    lines: z.array(SaleLine).max(MAX_LINES),
    payments: z.array(SalePayment).max(MAX_PAYMENTS),
    customerPhone: z.string().max(CUSTOMER_PHONE_MAX).nullable(),
    customerId: z.uuid().nullable().describe('The customer with an account, if any'),
    note: z.string().max(NOTE_MAX).nullable(),
    voidedAt: timestamp().nullable(),
    voidReason: z.string().max(VOID_REASON_MAX).nullable(),
  })
  .meta({ id: 'Sale' });
export type Sale = z.infer<typeof Sale>;

/** Sales per POST /sales/sync. */
const MAX_SYNC_SALES = 100;

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
      .max(MAX_SYNC_SALES),
  })
  .meta({ id: 'SyncSalesBody' });

export const SyncSaleResult = z
  .object({
    clientRequestId: z
      .string()
      .max(ECHOED_CLIENT_REQUEST_ID_MAX)
      .nullable()
      .describe(
        `As sent; null when the element had no string clientRequestId or one longer than ${ECHOED_CLIENT_REQUEST_ID_MAX} characters`,
      ),
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
  .object({
    results: z
      .array(SyncSaleResult)
      .max(MAX_SYNC_SALES)
      .describe('One per input sale, in input order'),
  })
  .meta({ id: 'SyncSalesResponse' });

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected YYYY-MM-DD')
  .max(10)
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
    locationId: z.uuid().optional().describe('Only sales at this location'),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
    limit: z
      .string()
      .regex(/^\d+$/, 'Expected a positive integer')
      .max(6)
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
  .object({ data: pageItems(Sale), nextCursor: NextCursor })
  .meta({ id: 'SaleList' });

export const SaleParams = z.object({ id: z.uuid() });

export const VoidSaleBody = z
  .strictObject({ reason: z.string().trim().min(1).max(VOID_REASON_MAX) })
  .meta({ id: 'VoidSaleBody' });

export const ReceiptEmailBody = z
  .strictObject({ email: z.email().max(254) })
  .meta({ id: 'ReceiptEmailBody' });
