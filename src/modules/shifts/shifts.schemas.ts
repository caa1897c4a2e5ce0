import { MAX_CURSOR_LENGTH, NextCursor, pageItems } from '../../lib/cursor.js';
import { NO_CONTROL_CHARACTERS, anyUuid, timestamp, z } from '../../lib/zod.js';
import { CASH_MOVEMENT_TYPES, PAYMENT_METHODS, SHIFT_STATUSES } from '../../db/schema/index.js';
import { MAX_SALE_AMOUNT } from '../sales/sales.rules.js';

const REGISTER_MAX = 64;
const NOTE_MAX = 500;

const cents = (description: string) =>
  z.int().min(0).max(MAX_SALE_AMOUNT).describe(`${description} (integer cents)`);
/** Money the server computed or summed. */
const summedCents = (description: string) =>
  z.int().min(0).describe(`${description} (integer cents)`);
/** Money that may be negative (a short drawer, more paid out than in). */
const signedCents = (description: string) => z.int().describe(`${description} (integer cents)`);

const Note = z
  .string()
  .trim()
  .max(NOTE_MAX)
  .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');

export const OpenShiftBody = z
  .strictObject({
    id: anyUuid().describe(
      'Made by the till when the shift is opened (any UUID version); the idempotency key: the same id and body again answers 200, another body 422',
    ),
    register: z
      .string()
      .trim()
      .min(1)
      .max(REGISTER_MAX)
      .regex(NO_CONTROL_CHARACTERS, 'must not contain control characters')
      .describe(
        "The till's name. One open shift per register and location (compared case-insensitively): a second is 409 naming `register`",
      ),
    openedAt: timestamp({ offset: true }).describe(
      'When the till opened the shift (ISO 8601 with offset); ≤ 5 min in the future',
    ),
    openingFloat: cents('Cash in the drawer at opening'),
    locationId: z
      .uuid()
      .optional()
      .describe(
        "Where the till is; omitted → the cashier's only location, else the default. An archived location is 422",
      ),
  })
  .meta({ id: 'OpenShiftBody' });
export type OpenShiftBody = z.infer<typeof OpenShiftBody>;

export const CashMovementBody = z
  .strictObject({
    clientRequestId: anyUuid().describe(
      'Made by the till (any UUID version); the idempotency key: the same body again answers 200, another body 422',
    ),
    type: z.enum(CASH_MOVEMENT_TYPES),
    amount: cents('Cash put in (pay_in) or taken out (pay_out)').min(1),
    note: Note.min(1).describe('Why (e.g. "bought milk for the shop")'),
  })
  .meta({ id: 'CashMovementBody' });
export type CashMovementBody = z.infer<typeof CashMovementBody>;

export const CloseShiftBody = z
  .strictObject({
    closedAt: timestamp({ offset: true }).describe(
      'When the till closed the shift; not before openedAt, ≤ 5 min in the future',
    ),
    countedCash: cents('The cash counted in the drawer'),
    note: Note.optional(),
  })
  .meta({ id: 'CloseShiftBody' });
export type CloseShiftBody = z.infer<typeof CloseShiftBody>;

export const Shift = z
  .object({
    id: anyUuid(),
    register: z.string().max(REGISTER_MAX),
    locationId: z.uuid(),
    cashierId: z.uuid().describe('Who opened it'),
    status: z.enum(SHIFT_STATUSES),
    openedAt: timestamp(),
    openingFloat: summedCents('Cash in the drawer at opening'),
    receivedAt: timestamp().describe('When the opening reached the server'),
    closedAt: timestamp().nullable(),
    closeReceivedAt: timestamp()
      .nullable()
      .describe('When the close reached the server: sales accepted after it are late'),
    closedBy: z.uuid().nullable(),
    expectedCash: signedCents(
      'openingFloat + cash tendered − change on its sales − cash refunds + pay-ins − pay-outs + cash received on customer accounts; frozen at close (null while open: see the X report)',
    ).nullable(),
    countedCash: summedCents('Counted at close').nullable(),
    difference: signedCents(
      'countedCash − expectedCash (negative: the drawer is short)',
    ).nullable(),
    note: z.string().max(NOTE_MAX).nullable().describe('The closing note'),
  })
  .meta({
    id: 'Shift',
    description: 'One cashier at one till (register) from opening to closing.',
  });
export type Shift = z.infer<typeof Shift>;

export const CashMovement = z
  .object({
    id: z.uuid(),
    shiftId: anyUuid(),
    clientRequestId: anyUuid(),
    type: z.enum(CASH_MOVEMENT_TYPES),
    amount: summedCents('Amount'),
    note: z.string().max(NOTE_MAX),
    createdBy: z.uuid(),
    createdAt: timestamp(),
  })
  .meta({
    id: 'CashMovement',
    description: 'Cash put into (pay_in) or taken out of (pay_out) the drawer.',
  });
export type CashMovement = z.infer<typeof CashMovement>;

const MethodAmount = z.object({
  method: z.enum(PAYMENT_METHODS),
  amount: signedCents('Amount'),
});

export const ShiftReport = z
  .object({
    shift: Shift,
    sales: z
      .object({
        count: z.int().min(0),
        gross: summedCents('Σ VAT-inclusive line totals before the sale discount'),
        discount: summedCents('Σ sale discounts'),
        tax: summedCents('Σ VAT contained'),
        net: summedCents('gross − discount'),
      })
      .describe("The shift's completed sales (voided ones are under `voids`)"),
    byPaymentMethod: z
      .array(MethodAmount)
      .max(PAYMENT_METHODS.length)
      .describe('Every method, what was applied to the sales (cash: tendered − change)'),
    returns: z.object({ count: z.int().min(0), total: summedCents('Refunded value') }),
    refundsByMethod: z.array(MethodAmount).max(10),
    voids: z.object({ count: z.int().min(0), total: summedCents('Σ totals of voided sales') }),
    cashMovements: z.object({
      count: z.int().min(0),
      payIns: summedCents('Σ pay-ins'),
      payOuts: summedCents('Σ pay-outs'),
    }),
    taxByRate: z
      .array(
        z.object({
          rate: z.int().min(0).describe('Basis points (1600 = 16%)'),
          taxable: summedCents(
            'VAT-inclusive line totals after the sale discount (as eTIMS taxblAmt)',
          ),
          tax: summedCents('VAT contained in them'),
        }),
      )
      .max(20),
    firstSaleNumber: z.int().min(1).nullable(),
    lastSaleNumber: z.int().min(1).nullable(),
    expectedCash: signedCents('Live for an open shift; as frozen at close for a closed one'),
    countedCash: summedCents('Closed shifts only').optional(),
    difference: signedCents('countedCash − expectedCash; closed shifts only').optional(),
    lateSales: z
      .int()
      .min(0)
      .describe(
        'Completed sales of this shift accepted after its close (not in the figures above)',
      ),
    lateCash: signedCents('Their cash tendered − change'),
  })
  .meta({
    id: 'ShiftReport',
    description:
      'The X report (open shift, live) or Z report (closed shift, exactly the figures at close; late sales counted apart). Each figure is computed from the facts (sales, payments, cash movements) each time.',
  });
export type ShiftReport = z.infer<typeof ShiftReport>;

const day = z
  .string()
  .max(10)
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected YYYY-MM-DD')
  .refine((value) => {
    // Refinements run even when the pattern failed: never call toISOString on a bad date.
    const instant = Date.parse(`${value}T00:00:00Z`);
    return !Number.isNaN(instant) && new Date(instant).toISOString().startsWith(value);
  }, 'Not a calendar day');

export const ListShiftsQuery = z
  .object({
    status: z.enum(SHIFT_STATUSES).optional(),
    register: z.string().trim().min(1).max(REGISTER_MAX).optional().describe('Case-insensitive'),
    locationId: z.uuid().optional(),
    from: day.optional().describe('Inclusive day (business timezone) of openedAt'),
    to: day.optional().describe('Inclusive day (business timezone) of openedAt'),
    cursor: z.string().max(MAX_CURSOR_LENGTH).optional(),
    limit: z
      .string()
      .regex(/^[1-9]\d{0,5}$/, 'must be a positive integer')
      .max(6)
      .transform((value) => Math.min(Number(value), 200))
      .optional()
      .describe('Default 50; above 200 is clamped to 200'),
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, {
    message: '`from` must not be after `to`',
    path: ['from'],
  });
export type ListShiftsQuery = z.infer<typeof ListShiftsQuery>;

export const ShiftList = z
  .object({ data: pageItems(Shift), nextCursor: NextCursor })
  .meta({ id: 'ShiftList' });

export const ShiftParams = z.object({ id: anyUuid() });
