import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import type { PaymentMethod } from '../../db/schema/index.js';

/**
 * Where a shift's facts end. Open (X report): nowhere — every fact of the shift counts.
 * At the close: the business's last sale number as the close's snapshot sees it, and the
 * close's arrival. Closed (Z report): the two values the close stored.
 *
 * Why a sale number and not `received_at`: numbers come from the per-business counter,
 * whose row lock is held until the sale commits, so every sale numbered up to the value the
 * close reads has committed and is in the close's snapshot, and every later one is not.
 * `received_at` is taken before the sale's statement runs, so a sale in flight during the
 * close could carry an earlier time yet be invisible to it. "Late" is thus "accepted after
 * the close", by the server's own order of acceptance, with no race.
 */
export type FiguresCutoff =
  { kind: 'open' } | { kind: 'closing' } | { kind: 'closed'; saleNumber: number; at: Date };

export interface ShiftFigures {
  sales: { count: number; gross: number; discount: number; tax: number; net: number };
  byPaymentMethod: { method: PaymentMethod; amount: number }[];
  returns: { count: number; total: number };
  refundsByMethod: { method: PaymentMethod; amount: number }[];
  voids: { count: number; total: number };
  cashMovements: { count: number; payIns: number; payOuts: number };
  taxByRate: { rate: number; taxable: number; tax: number }[];
  firstSaleNumber: number | null;
  lastSaleNumber: number | null;
  expectedCash: number;
  lateSales: number;
  lateCash: number;
  /** Where the facts ended (the close stores it). */
  cutoff: { saleNumber: number | null; at: string | null };
}

function cutoffSql(businessId: string, cutoff: FiguresCutoff): SQL {
  switch (cutoff.kind) {
    case 'open':
      return sql`select null::bigint as number, null::timestamptz as at`;
    case 'closing':
      return sql`select coalesce((select last_number from sale_counters
        where business_id = ${businessId}), 0)::bigint as number,
        date_trunc('milliseconds', now()) as at`;
    case 'closed':
      return sql`select ${cutoff.saleNumber}::bigint as number, ${cutoff.at.toISOString()}::timestamptz as at`;
  }
}

/**
 * A shift's figures, computed from the facts in one statement (one snapshot), one CTE per
 * source of cash so each term of expectedCash stands on its own:
 *
 *   expectedCash = openingFloat + (cash tendered − change on its completed sales)
 *                − cash refunds + pay-ins − pay-outs + cash received on customer accounts
 *
 * Everything that names the shift is joined within its business (a till's shift id is
 * unique only there), so another business's rows never count.
 */
export async function computeShiftFigures(
  db: DbOrTx,
  businessId: string,
  shiftId: string,
  cutoff: FiguresCutoff,
): Promise<ShiftFigures> {
  const result = await db.execute<{ figures: ShiftFigures }>(sql`
    with cutoff as (${cutoffSql(businessId, cutoff)}),
    shift as (
      select opening_float from shifts where business_id = ${businessId} and id = ${shiftId}
    ),

    -- Source 1, sales: the shift's sales accepted up to the cutoff. A sale voided after the
    -- close still counts as completed here (the closed figures do not move).
    shift_sales as (
      select s.id, s.number, s.subtotal, s.discount, s.tax, s.total, s.change,
        (s.status = 'voided' and (c.at is null or s.voided_at <= c.at)) as voided
      from sales s cross join cutoff c
      where s.business_id = ${businessId} and s.shift_id = ${shiftId}
        and (c.number is null or s.number <= c.number)
    ),
    completed as (select * from shift_sales where not voided),
    sale_totals as (
      select count(*) as count, coalesce(sum(subtotal), 0) as gross,
        coalesce(sum(discount), 0) as discount, coalesce(sum(tax), 0) as tax,
        coalesce(sum(total), 0) as net, coalesce(sum(change), 0) as change
      from completed
    ),
    number_range as (
      -- Every receipt the shift issued, voided ones included.
      select min(number) as first_number, max(number) as last_number from shift_sales
    ),
    tendered as (
      select py.method, sum(py.amount) as amount
      from completed s
      join sale_payments py on py.sale_id = s.id and py.business_id = ${businessId}
      group by py.method
    ),
    by_method as (
      -- What each method paid towards the sales: cash less the change handed back.
      select m.method, m.position, coalesce(t.amount, 0)
          - case when m.method = 'cash' then (select change from sale_totals) else 0 end as amount
      from unnest(array['cash', 'mpesa', 'card', 'other', 'credit']) with ordinality as m(method, position)
      left join tendered t on t.method = m.method
    ),
    sales_cash as (select amount from by_method where method = 'cash'),
    voids as (
      select count(*) as count, coalesce(sum(total), 0) as total from shift_sales where voided
    ),
    tax_by_rate as (
      select l.tax_rate as rate, sum(l.total - l.sale_discount_share) as taxable, sum(l.tax) as tax
      from completed s
      join sale_lines l on l.sale_id = s.id and l.business_id = ${businessId}
      group by l.tax_rate
    ),
    late as (
      -- Accepted after the close: counted apart, never in the figures above.
      select s.id, s.change
      from sales s cross join cutoff c
      where s.business_id = ${businessId} and s.shift_id = ${shiftId}
        and c.number is not null and s.number > c.number and s.status = 'completed'
    ),
    late_cash as (
      select (select count(*) from late) as count,
        coalesce((select sum(py.amount) from late
          join sale_payments py on py.sale_id = late.id and py.business_id = ${businessId}
          where py.method = 'cash'), 0)
        - coalesce((select sum(change) from late), 0) as amount
    ),

    -- Source 2, the drawer's pay-ins and pay-outs (refused once the shift is closed).
    cash_movements as (
      select count(*) as count,
        coalesce(sum(amount) filter (where type = 'pay_in'), 0) as pay_ins,
        coalesce(sum(amount) filter (where type = 'pay_out'), 0) as pay_outs
      from shift_cash_movements
      where business_id = ${businessId} and shift_id = ${shiftId}
    ),

    -- Source 3, returns naming this shift and their refunds, up to the close's arrival (a
    -- return recorded after the close is late: its cash refund is taken off lateCash).
    shift_returns as (
      select r.id, r.total, (c.at is not null and r.received_at > c.at) as late
      from returns r cross join cutoff c
      where r.business_id = ${businessId} and r.shift_id = ${shiftId}
    ),
    returns_totals as (
      select count(*) as count, coalesce(sum(total), 0) as total
      from shift_returns where not late
    ),
    refunds_by_method as (
      select f.method, sum(f.amount) as amount
      from shift_returns r
      join return_refunds f on f.return_id = r.id and f.business_id = ${businessId}
      where not r.late
      group by f.method
    ),
    late_cash_refunds as (
      select coalesce(sum(f.amount), 0) as amount
      from shift_returns r
      join return_refunds f on f.return_id = r.id and f.business_id = ${businessId}
      where r.late and f.method = 'cash'
    ),
    cash_refunds as (
      select coalesce(sum(amount), 0) as amount from refunds_by_method where method = 'cash'
    ),

    -- Source 4, cash received on customer accounts (customer payments naming this shift),
    -- up to the close's arrival; a payment recorded after the close is late cash.
    customer_cash as (
      select coalesce(sum(p.amount) filter (where c.at is null or p.created_at <= c.at), 0)
          as amount,
        coalesce(sum(p.amount) filter (where c.at is not null and p.created_at > c.at), 0)
          as late_amount
      from customer_payments p cross join cutoff c
      where p.business_id = ${businessId} and p.shift_id = ${shiftId} and p.method = 'cash'
    )

    select json_build_object(
      'sales', (select json_build_object('count', count, 'gross', gross,
          'discount', discount, 'tax', tax, 'net', net) from sale_totals),
      'byPaymentMethod', (select json_agg(json_build_object('method', method,
          'amount', amount) order by position) from by_method),
      'returns', (select json_build_object('count', count, 'total', total) from returns_totals),
      'refundsByMethod', (select coalesce(json_agg(json_build_object('method', method,
          'amount', amount) order by method), '[]'::json) from refunds_by_method),
      'voids', (select json_build_object('count', count, 'total', total) from voids),
      'cashMovements', (select json_build_object('count', count, 'payIns', pay_ins,
          'payOuts', pay_outs) from cash_movements),
      'taxByRate', (select coalesce(json_agg(json_build_object('rate', rate,
          'taxable', taxable, 'tax', tax) order by rate), '[]'::json) from tax_by_rate),
      'firstSaleNumber', (select first_number from number_range),
      'lastSaleNumber', (select last_number from number_range),
      'expectedCash', (select opening_float from shift)
          + (select amount from sales_cash)
          - (select amount from cash_refunds)
          + (select pay_ins from cash_movements)
          - (select pay_outs from cash_movements)
          + (select amount from customer_cash),
      'lateSales', (select count from late_cash),
      'lateCash', (select amount from late_cash) + (select late_amount from customer_cash)
          - (select amount from late_cash_refunds),
      'cutoff', (select json_build_object('saleNumber', number,
          'at', to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) from cutoff)
    ) as figures`);
  const row = result.rows[0];
  if (!row) throw new Error('the figures query answers one row');
  return row.figures;
}
