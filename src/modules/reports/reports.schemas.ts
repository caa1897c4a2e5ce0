import { timestamp, z } from '../../lib/zod.js';
import { EXPORT_STATUSES, PAYMENT_METHODS } from '../../db/schema/index.js';

/** The longest range a report or export covers: a year, leap day included. */
export const MAX_RANGE_DAYS = 366;

const DAY_MS = 86_400_000;

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected YYYY-MM-DD')
  .max(10)
  .refine(
    (value) => {
      const parsed = new Date(`${value}T00:00:00Z`);
      return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
    },
    { message: 'Not a calendar day' },
  )
  .openapi({ format: 'date', example: '2026-11-22' });

/** Days in the range, both ends included (NaN-safe: only called on valid days). */
export const rangeDays = (from: string, to: string): number =>
  (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;

function checkRange(value: { from: string; to: string }, ctx: z.RefinementCtx) {
  const days = rangeDays(value.from, value.to);
  if (Number.isNaN(days)) return; // the day checks already failed
  if (days < 1) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: '`to` must not be before `from`' });
  } else if (days > MAX_RANGE_DAYS) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `The range may cover at most ${MAX_RANGE_DAYS} days`,
    });
  }
}

/**
 * Rows of a summary: a year of days fits; by product, the largest 1000 (the CSV export has
 * every line).
 */
export const MAX_SUMMARY_ROWS = 1000;

export const SUMMARY_GROUPS = ['day', 'product', 'cashier', 'paymentMethod', 'location'] as const;
export type SummaryGroup = (typeof SUMMARY_GROUPS)[number];

export const SalesSummaryQuery = z
  .object({
    from: day.describe('First day, inclusive, in the business timezone'),
    to: day.describe(
      `Last day, inclusive, in the business timezone; at most ${MAX_RANGE_DAYS} days after from`,
    ),
    groupBy: z.enum(SUMMARY_GROUPS).default('day').describe('How rows are grouped (default day)'),
    locationId: z.uuid().optional().describe('Only sales at this location'),
  })
  .superRefine(checkRange);
export type SalesSummaryQuery = z.infer<typeof SalesSummaryQuery>;

/** Sums of non-negative sale amounts: bounded above only by safe integers. */
const cents = (description: string) => z.int().min(0).describe(`${description} (integer cents)`);
const count = () => z.int().min(0);

const SummaryTotals = z
  .object({
    count: count().describe('Completed sales in the range'),
    gross: cents('Σ VAT-inclusive line totals (after line discounts) before the sale discount'),
    discount: cents('Σ sale discounts'),
    tax: cents('Σ VAT contained in net'),
    net: cents('gross − discount: what was charged'),
    voidedCount: count().describe('Voided sales in the range (excluded from every other figure)'),
  })
  .meta({ id: 'SalesSummaryTotals' });

/** A day, a product's name (≤ 200), a cashier's name (≤ 100) or a payment method's label. */
const SUMMARY_LABEL_MAX = 200;

const SummaryRow = z
  .object({
    key: z
      .string()
      .max(36)
      .describe(
        'The day (YYYY-MM-DD), productId, cashierId, payment method (`cash`…) or locationId',
      ),
    label: z
      .string()
      .max(SUMMARY_LABEL_MAX)
      .describe("The day, the product's, cashier's or location's name, or the method's name"),
    count: count().describe(
      'Completed sales in this group (a sale with two products counts in both)',
    ),
    gross: cents(
      'Σ line totals before the sale discount; for payment methods, the amounts applied to sales (change excluded)',
    ),
    discount: cents(
      'Σ sale discounts (for products, their lines’ shares; for payment methods always 0: the applied amounts are already net)',
    ),
    tax: cents(
      'VAT contained in net (for payment methods, each sale’s tax apportioned by applied amount)',
    ),
    net: cents('gross − discount'),
  })
  .meta({ id: 'SalesSummaryRow' });

export const SalesSummary = z
  .object({
    currency: z.string().length(3).describe('ISO 4217, e.g. KES'),
    totals: SummaryTotals,
    rows: z
      .array(SummaryRow)
      .max(MAX_SUMMARY_ROWS)
      .describe(
        `Days in ascending order; other groups by net, largest first, at most ${MAX_SUMMARY_ROWS} (totals cover every sale). Voided sales excluded.`,
      ),
  })
  .meta({ id: 'SalesSummary' });
export type SalesSummary = z.infer<typeof SalesSummary>;
export type SalesSummaryRow = z.infer<typeof SummaryRow>;

export const PAYMENT_METHOD_LABELS: Record<(typeof PAYMENT_METHODS)[number], string> = {
  cash: 'Cash',
  mpesa: 'M-Pesa',
  card: 'Card',
  other: 'Other',
  credit: 'Credit (on account)',
};

export const CreateExportBody = z
  .strictObject({
    type: z.literal('sales'),
    from: day.describe('First day, inclusive, in the business timezone'),
    to: day.describe(`Last day, inclusive; at most ${MAX_RANGE_DAYS} days after from`),
    format: z.literal('csv'),
    locationId: z.uuid().optional().describe('Only sales at this location'),
  })
  .superRefine(checkRange)
  .meta({ id: 'CreateReportExportBody' });
export type CreateExportBody = z.infer<typeof CreateExportBody>;

export const ExportParams = z.object({ id: z.uuid() });

export const ReportExport = z
  .object({
    id: z.uuid(),
    type: z.literal('sales'),
    format: z.literal('csv'),
    from: z.string().max(10),
    to: z.string().max(10),
    status: z.enum(EXPORT_STATUSES),
    rowCount: count().nullable().describe('CSV data rows (sale lines), once done'),
    error: z.string().max(200).nullable().describe('Why it failed, when status is failed'),
    downloadUrl: z
      .string()
      .max(2048)
      .optional()
      .describe('When done: a signed link to the CSV, valid for 15 minutes (no token needed)'),
    createdAt: timestamp(),
    completedAt: timestamp().nullable(),
  })
  .meta({ id: 'ReportExport' });
export type ReportExport = z.infer<typeof ReportExport>;
