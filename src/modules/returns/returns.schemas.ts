import { MAX_CURSOR_LENGTH, NextCursor, pageItems } from '../../lib/cursor.js';
import { anyUuid, NO_CONTROL_CHARACTERS, threeDecimals, timestamp, z } from '../../lib/zod.js';
import { REFUND_METHODS } from '../../db/schema/index.js';
import { EtimsBlock } from '../etims/etims.schemas.js';
import { hasAtMostThreeDecimals, MAX_SALE_AMOUNT } from '../sales/sales.rules.js';
import { day, pageLimit } from '../sales/sales.schemas.js';

const MAX_LINES = 200;
const MAX_REFUNDS = 10;
const REASON_MAX = 500;
const REFERENCE_MAX = 100;
const LINE_NAME_MAX = 200;

/** A server-made id as PostgreSQL answers it (lower case), so a replay hashes alike. */
const id = () => z.uuid().toLowerCase();

const ReturnLineInput = z.strictObject({
  saleLineId: id().describe('A line of the sale (`Sale.lines[].id`)'),
  quantity: z
    .number()
    .gt(0)
    .max(1_000_000)
    .refine(hasAtMostThreeDecimals, { message: 'At most 3 decimals' })
    .describe('> 0, at most 3 decimals; with earlier returns, at most the quantity sold')
    .openapi(threeDecimals),
  restock: z
    .boolean()
    .optional()
    .describe(
      'Default true: the quantity goes back into stock at the return’s location (a `return` movement; only for products that track stock)',
    ),
});

const RefundInput = z.strictObject({
  method: z
    .enum(REFUND_METHODS)
    .describe(
      '`credit` puts the money back on the account of the customer the sale was made to (a sale without a customer → 422)',
    ),
  amount: z.int().min(0).max(MAX_SALE_AMOUNT).describe('Integer cents'),
  reference: z
    .string()
    .trim()
    .min(1)
    .max(REFERENCE_MAX)
    .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
    .optional()
    .describe('e.g. the M-Pesa reversal code'),
});

export const CreateReturnBody = z
  .strictObject({
    clientRequestId: anyUuid().describe(
      'Made by the till when the return is rung up (any UUID version); the idempotency key',
    ),
    saleId: id(),
    occurredAt: timestamp({ offset: true }).describe(
      'When the return happened on the till (ISO 8601 with offset); ≤ 5 min in the future',
    ),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(REASON_MAX)
      .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters'),
    lines: z.array(ReturnLineInput).min(1).max(MAX_LINES),
    refunds: z
      .array(RefundInput)
      .max(MAX_REFUNDS)
      .describe('Must add up to the return’s total (computed by the server), else TOTALS_MISMATCH'),
    shiftId: anyUuid()
      .optional()
      .describe('The till shift; kept as given (a return is never refused for its shift)'),
    locationId: id()
      .optional()
      .describe(
        'Where the goods come back; omitted → the sale’s location. Outside your assigned locations → 403',
      ),
  })
  .meta({ id: 'CreateReturnBody' });
export type CreateReturnBody = z.infer<typeof CreateReturnBody>;

const computedCents = () => z.int().min(0);

const ReturnLine = z
  .object({
    id: z.uuid(),
    saleLineId: z.uuid(),
    productId: z.uuid(),
    name: z.string().max(LINE_NAME_MAX).describe('The sold line’s name'),
    quantity: z.number(),
    unitPrice: computedCents().describe('The sold line’s unit price, cents'),
    tax: computedCents().describe('VAT contained in total, at the line’s rate'),
    total: computedCents().describe(
      'round(sold line total after its share of the sale discount × quantity / quantity sold); the last return of a line takes exactly what is left',
    ),
    restocked: z.boolean(),
  })
  .meta({ id: 'ReturnLine' });

const ReturnRefund = z
  .object({
    method: z.enum(REFUND_METHODS),
    amount: computedCents(),
    reference: z.string().max(REFERENCE_MAX).nullable(),
  })
  .meta({ id: 'ReturnRefund' });

export const Return = z
  .object({
    id: z.uuid(),
    number: z.int().min(1).describe('Gap-free per-business sequence of returns'),
    clientRequestId: anyUuid(),
    saleId: z.uuid(),
    occurredAt: timestamp(),
    receivedAt: timestamp(),
    cashierId: z.uuid().describe('Who recorded the return'),
    locationId: z.uuid(),
    shiftId: z.uuid().nullable(),
    reason: z.string().max(REASON_MAX),
    lines: z.array(ReturnLine).max(MAX_LINES),
    subtotal: computedCents().describe('Σ line totals'),
    tax: computedCents().describe('Σ line taxes, contained in total'),
    total: computedCents().describe('= subtotal: what was refunded'),
    refunds: z.array(ReturnRefund).max(MAX_REFUNDS),
    etims: EtimsBlock.nullable().describe(
      "KRA eTIMS: the return's credit note (R, referencing the sale's invoice); null when the sale has no eTIMS invoice",
    ),
  })
  .meta({ id: 'Return' });
export type Return = z.infer<typeof Return>;

export const ListReturnsQuery = z
  .object({
    from: day.optional().describe('Inclusive day (business timezone) of occurredAt'),
    to: day.optional().describe('Inclusive day (business timezone) of occurredAt'),
    saleId: z.uuid().optional().describe('Only the returns of this sale'),
    locationId: z.uuid().optional().describe('Only returns at this location'),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
    limit: pageLimit,
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    message: '`from` must not be after `to`',
    path: ['from'],
  });
export type ListReturnsQuery = z.infer<typeof ListReturnsQuery>;

export const ReturnList = z
  .object({ data: pageItems(Return), nextCursor: NextCursor })
  .meta({ id: 'ReturnList' });

export const ReturnParams = z.object({ id: z.uuid() });
