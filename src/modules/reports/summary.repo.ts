import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { MAX_SUMMARY_ROWS, type SummaryGroup } from './reports.schemas.js';

// A read model over the sales tables (owned by the sales module): plain SQL, no writes.
// Every query is a range scan of `sales_business_occurred_idx` (business_id, occurred_at, id);
// lines and payments are reached through their (sale_id, position) unique indexes.

export interface SummaryRange {
  businessId: string;
  timezone: string;
  /** Inclusive local days (YYYY-MM-DD). */
  from: string;
  to: string;
  /** Only sales at these locations; undefined = every location. */
  locationIds?: string[];
}

export interface TotalsRow {
  count: number;
  gross: number;
  discount: number;
  tax: number;
  net: number;
  voidedCount: number;
}

export interface GroupRow {
  key: string;
  label: string | null;
  count: number;
  gross: number;
  discount: number;
  tax: number;
  net: number;
}

/** Sales of the business whose occurredAt falls on the local days [from, to]. */
function inRange(range: SummaryRange, alias = 's'): SQL {
  const s = sql.raw(alias);
  return sql`${s}.business_id = ${range.businessId}
    and ${s}.occurred_at >= (${range.from}::date)::timestamp at time zone ${range.timezone}
    and ${s}.occurred_at < (${range.to}::date + 1)::timestamp at time zone ${range.timezone}
    ${range.locationIds ? sql`and ${s}.location_id = any(${sql.param(range.locationIds)}::uuid[])` : sql``}`;
}

/** Totals of the completed sales in the range, and how many were voided. */
export async function sumSales(db: DbOrTx, range: SummaryRange): Promise<TotalsRow> {
  const result = await db.execute<Record<keyof TotalsRow, number>>(sql`
    select
      count(*) filter (where s.status = 'completed')::int as "count",
      coalesce(sum(s.subtotal) filter (where s.status = 'completed'), 0)::bigint as "gross",
      coalesce(sum(s.discount) filter (where s.status = 'completed'), 0)::bigint as "discount",
      coalesce(sum(s.tax) filter (where s.status = 'completed'), 0)::bigint as "tax",
      coalesce(sum(s.total) filter (where s.status = 'completed'), 0)::bigint as "net",
      count(*) filter (where s.status = 'voided')::int as "voidedCount"
    from sales s
    where ${inRange(range)}`);
  const [totals] = result.rows;
  if (!totals) throw new Error('an aggregate query returned no row');
  return totals;
}

export type TaxByType = Record<'A' | 'B' | 'C' | 'D' | 'E', { taxable: number; tax: number }>;

/**
 * KRA eTIMS bands A–E of the completed sales in the range: each line's amount after its share
 * of the sale discount (VAT included) and its tax, in the band of its product's tax type (a
 * line whose rate differs from the product's current one goes by its own rate).
 */
export async function sumTaxByType(db: DbOrTx, range: SummaryRange): Promise<TaxByType> {
  // bigint sums arrive as text.
  const result = await db.execute<{ type: string; taxable: string; tax: string }>(sql`
    select
      case when p.tax_type is not null and l.tax_rate = case p.tax_type when 'B' then 1600
          when 'E' then 800 else 0 end then p.tax_type
        else case l.tax_rate when 1600 then 'B' when 800 then 'E' when 0 then 'A' else 'B' end
      end as "type",
      sum(l.total - l.sale_discount_share)::bigint as "taxable",
      sum(l.tax)::bigint as "tax"
    from sales s
    join sale_lines l on l.sale_id = s.id and l.business_id = s.business_id
    join products p on p.id = l.product_id and p.business_id = l.business_id
    where ${inRange(range)} and s.status = 'completed'
    group by 1`);
  const bands = Object.fromEntries(
    (['A', 'B', 'C', 'D', 'E'] as const).map((type) => [type, { taxable: 0, tax: 0 }]),
  ) as TaxByType;
  for (const row of result.rows) {
    const band = bands[row.type as keyof TaxByType] as TaxByType['A'] | undefined;
    if (band) {
      band.taxable += Number(row.taxable);
      band.tax += Number(row.tax);
    }
  }
  return bands;
}

const groupQueries: Record<SummaryGroup, (range: SummaryRange) => SQL> = {
  day: (range) => sql`
    select to_char(g.day, 'YYYY-MM-DD') as "key", null as "label", g.*
    from (
      select (s.occurred_at at time zone ${range.timezone})::date as day,
        count(*)::int as "count",
        sum(s.subtotal)::bigint as "gross",
        sum(s.discount)::bigint as "discount",
        sum(s.tax)::bigint as "tax",
        sum(s.total)::bigint as "net"
      from sales s
      where ${inRange(range)} and s.status = 'completed'
      group by 1
    ) g
    order by g.day`,

  cashier: (range) => sql`
    select g.cashier_id::text as "key", u.name as "label", g.*
    from (
      select s.cashier_id,
        count(*)::int as "count",
        sum(s.subtotal)::bigint as "gross",
        sum(s.discount)::bigint as "discount",
        sum(s.tax)::bigint as "tax",
        sum(s.total)::bigint as "net"
      from sales s
      where ${inRange(range)} and s.status = 'completed'
      group by s.cashier_id
    ) g
    join users u on u.id = g.cashier_id
    order by g."net" desc, 1`,

  location: (range) => sql`
    select g.location_id::text as "key", loc.name as "label", g.*
    from (
      select s.location_id,
        count(*)::int as "count",
        sum(s.subtotal)::bigint as "gross",
        sum(s.discount)::bigint as "discount",
        sum(s.tax)::bigint as "tax",
        sum(s.total)::bigint as "net"
      from sales s
      where ${inRange(range)} and s.status = 'completed'
      group by s.location_id
    ) g
    join locations loc on loc.id = g.location_id
    order by g."net" desc, 1`,

  // A product's share: its lines' totals, their shares of the sale discounts and their tax
  // (which sum to the sales' subtotal, discount and tax: the rows add up to the totals).
  product: (range) => sql`
    select g.product_id::text as "key", p.name as "label", g.*
    from (
      select l.product_id,
        count(distinct l.sale_id)::int as "count",
        sum(l.total)::bigint as "gross",
        sum(l.sale_discount_share)::bigint as "discount",
        sum(l.tax)::bigint as "tax",
        sum(l.total - l.sale_discount_share)::bigint as "net"
      from sales s
      join sale_lines l on l.sale_id = s.id
      where ${inRange(range)} and s.status = 'completed'
      group by l.product_id
    ) g
    join products p on p.id = g.product_id
    order by g."net" desc, 1`,

  // What each method paid towards the sales: non-cash amounts as tendered, cash less the
  // change. The sale's tax is apportioned over its methods by cumulative rounding, so each
  // sale's shares add up to its tax exactly.
  paymentMethod: (range) => sql`
    with applied as (
      select s.id as sale_id, s.total, s.tax, p.method,
        (sum(p.amount) - case when p.method = 'cash' then s.change else 0 end)::numeric as amount
      from sales s
      join sale_payments p on p.sale_id = s.id
      where ${inRange(range)} and s.status = 'completed'
      group by s.id, p.method
    ),
    running as (
      select *, sum(amount) over (partition by sale_id order by method) as upto
      from applied
    )
    select method as "key",
      null as "label",
      count(*)::int as "count",
      sum(amount)::bigint as "gross",
      0::bigint as "discount",
      sum(case when total = 0 then 0
        else round(tax * upto / total) - round(tax * (upto - amount) / total) end)::bigint as "tax",
      sum(amount)::bigint as "net"
    from running
    group by method
    order by "net" desc, 1`,
};

/** One row per group of the completed sales in the range, the first MAX_SUMMARY_ROWS in order. */
export async function groupSales(
  db: DbOrTx,
  range: SummaryRange,
  groupBy: SummaryGroup,
): Promise<GroupRow[]> {
  // Every group query ends in its ORDER BY, so the limit keeps the largest groups.
  const result = await db.execute(sql`${groupQueries[groupBy](range)} limit ${MAX_SUMMARY_ROWS}`);
  return result.rows.map((row) => ({
    key: String(row.key),
    label: typeof row.label === 'string' ? row.label : null,
    count: Number(row.count),
    gross: Number(row.gross),
    discount: Number(row.discount),
    tax: Number(row.tax),
    net: Number(row.net),
  }));
}

// Returns (credit notes) count where and when they were made: their own occurredAt, location
// and cashier, like a credit note in the books; their money is the refunded total.

/** Σ totals of the returns in the range (their occurredAt on the local days, their location). */
export async function sumReturns(db: DbOrTx, range: SummaryRange): Promise<number> {
  const result = await db.execute<{ returns: number }>(sql`
    select coalesce(sum(r.total), 0)::bigint as "returns"
    from returns r
    where ${inRange(range, 'r')}`);
  return result.rows[0]?.returns ?? 0;
}

const returnGroupQueries: Record<SummaryGroup, (range: SummaryRange) => SQL> = {
  day: (range) => sql`
    select to_char((r.occurred_at at time zone ${range.timezone})::date, 'YYYY-MM-DD') as "key",
      null as "label", sum(r.total)::bigint as "returns"
    from returns r where ${inRange(range, 'r')}
    group by 1`,
  cashier: (range) => sql`
    select r.cashier_id::text as "key", min(u.name) as "label", sum(r.total)::bigint as "returns"
    from returns r join users u on u.id = r.cashier_id
    where ${inRange(range, 'r')}
    group by r.cashier_id`,
  location: (range) => sql`
    select r.location_id::text as "key", min(loc.name) as "label",
      sum(r.total)::bigint as "returns"
    from returns r join locations loc on loc.id = r.location_id
    where ${inRange(range, 'r')}
    group by r.location_id`,
  product: (range) => sql`
    select l.product_id::text as "key", min(p.name) as "label", sum(l.total)::bigint as "returns"
    from returns r
    join return_lines l on l.return_id = r.id
    join products p on p.id = l.product_id
    where ${inRange(range, 'r')}
    group by l.product_id`,
  paymentMethod: (range) => sql`
    select f.method as "key", null as "label", sum(f.amount)::bigint as "returns"
    from returns r join return_refunds f on f.return_id = r.id
    where ${inRange(range, 'r')}
    group by f.method`,
};

/** Σ returned money per group (the same keys as groupSales), with the group's label. */
export async function groupReturns(
  db: DbOrTx,
  range: SummaryRange,
  groupBy: SummaryGroup,
): Promise<{ key: string; label: string | null; returns: number }[]> {
  const result = await db.execute(returnGroupQueries[groupBy](range));
  return result.rows.map((row) => ({
    key: String(row.key),
    label: typeof row.label === 'string' ? row.label : null,
    returns: Number(row.returns),
  }));
}

/** The business's currency. */
export async function findCurrency(db: DbOrTx, businessId: string): Promise<string> {
  const result = await db.execute<{ currency: string }>(
    sql`select currency from businesses where id = ${businessId}`,
  );
  return result.rows[0]?.currency ?? 'KES';
}
