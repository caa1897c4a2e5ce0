import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Readable } from 'node:stream';

/** The CSV columns, in order (API.md Reports). */
export const SALES_CSV_COLUMNS = [
  'saleNumber',
  'receiptNumber',
  'occurredAt',
  'status',
  'cashier',
  'location',
  'productName',
  'sku',
  'quantity',
  'unitPrice',
  'discount',
  'tax',
  'lineTotal',
  'paymentMethods',
  'returnNumber',
  'etimsInvoiceNumber',
  'etimsReceiptNumber',
] as const;

export interface SalesCsvRange {
  businessId: string;
  /** Inclusive local days (YYYY-MM-DD), already validated. */
  from: string;
  to: string;
  timezone: string;
  /** Only sales at these locations; null = every location. */
  locationIds: string[] | null;
}

/** Cents as decimal shillings with two decimals, computed exactly by PostgreSQL: 15000 → 150.00. */
const shillings = (expression: string) => `round((${expression})::numeric / 100, 2)`;

/**
 * Free text a shop's staff or devices typed (product names, SKUs, receipt numbers, names)
 * is prefixed with `'` when it starts like a spreadsheet formula (`=`, `+`, `-`, `@`, tab,
 * carriage return), so opening the export in Excel or Sheets never runs it (OWASP "CSV
 * Injection"). The stored data is unchanged; only the file shows the apostrophe.
 */
const spreadsheetSafe = (expression: string) =>
  `case when left(${expression}, 1) in ('=', '+', '-', '@', E'\\t', E'\\r') then '''' || ${expression} else ${expression} end`;

/**
 * The COPY statement that writes the sales CSV: PostgreSQL formats and quotes every field
 * (RFC 4180: `Soda, "Large"` → `"Soda, ""Large"""`) and streams it, so no row is ever held
 * here. COPY takes no bind parameters: the values are quoted with the client's escapeLiteral.
 * Run it in a transaction whose TimeZone is the business's (occurredAt carries that offset).
 * `discount` is the line's own discount plus its share of the sale discount; `lineTotal` is
 * what the line was charged after both (the sale's lineTotals add up to its total).
 *
 * Returns (credit notes) follow the sales, one row per returned line, as an accountant
 * books a credit note: status `returned`, the return's own date, cashier (who recorded it)
 * and location, the sold line's product, sale number and unit price, and negative quantity,
 * tax and lineTotal; paymentMethods are the refund methods and returnNumber the return's
 * number (empty on sale rows). So Σ lineTotal of the file is the summary's net.
 */
export function salesCsvCopySql(client: pg.ClientBase, range: SalesCsvRange): string {
  const literal = (value: string) => client.escapeLiteral(value);
  const tz = literal(range.timezone);
  const inRange = (alias: string) => `${alias}.business_id = ${literal(range.businessId)}::uuid
      and ${alias}.occurred_at >= (${literal(range.from)}::date)::timestamp at time zone ${tz}
      and ${alias}.occurred_at < (${literal(range.to)}::date + 1)::timestamp at time zone ${tz}
      ${range.locationIds ? `and ${alias}.location_id = any(${literal(`{${range.locationIds.join(',')}}`)}::uuid[])` : ''}`;
  return `copy (
    select "saleNumber", "receiptNumber", "occurredAt", "status", "cashier", "location",
      "productName", "sku", "quantity", "unitPrice", "discount", "tax", "lineTotal",
      "paymentMethods", "returnNumber", "etimsInvoiceNumber", "etimsReceiptNumber"
    from (
      select 0 as kind, s.number as sort_number, l.position as sort_position,
        s.number as "saleNumber",
        ${spreadsheetSafe('s.receipt_number')} as "receiptNumber",
        to_char(s.occurred_at, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM') as "occurredAt",
        s.status as "status",
        ${spreadsheetSafe('u.name')} as "cashier",
        ${spreadsheetSafe('loc.name')} as "location",
        ${spreadsheetSafe('l.name')} as "productName",
        ${spreadsheetSafe('l.sku')} as "sku",
        trim_scale(l.quantity) as "quantity",
        ${shillings('l.unit_price')} as "unitPrice",
        ${shillings('l.discount + l.sale_discount_share')} as "discount",
        ${shillings('l.tax')} as "tax",
        ${shillings('l.total - l.sale_discount_share')} as "lineTotal",
        pm.methods as "paymentMethods",
        null::bigint as "returnNumber",
        ed.invoice_number as "etimsInvoiceNumber",
        ed.receipt_number as "etimsReceiptNumber"
      from sales s
      join sale_lines l on l.sale_id = s.id
      join users u on u.id = s.cashier_id
      left join locations loc on loc.id = s.location_id
      left join lateral (
        select string_agg(distinct p.method, ';' order by p.method) as methods
        from sale_payments p where p.sale_id = s.id
      ) pm on true
      left join etims_documents ed on ed.business_id = s.business_id and ed.sale_id = s.id
        and ed.kind = 'sale' and ed.return_id is null
      where ${inRange('s')}
      union all
      select 1, r.number, rl.position,
        s.number,
        ${spreadsheetSafe('s.receipt_number')},
        to_char(r.occurred_at, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM'),
        'returned',
        ${spreadsheetSafe('u.name')},
        ${spreadsheetSafe('loc.name')},
        ${spreadsheetSafe('rl.name')},
        ${spreadsheetSafe('sl.sku')},
        trim_scale(-rl.quantity),
        ${shillings('rl.unit_price')},
        ${shillings('0')},
        ${shillings('-rl.tax')},
        ${shillings('-rl.total')},
        rm.methods,
        r.number,
        red.invoice_number,
        red.receipt_number
      from returns r
      join return_lines rl on rl.return_id = r.id
      join sale_lines sl on sl.id = rl.sale_line_id
      join sales s on s.id = r.sale_id
      join users u on u.id = r.cashier_id
      join locations loc on loc.id = r.location_id
      left join lateral (
        select string_agg(distinct f.method, ';' order by f.method) as methods
        from return_refunds f where f.return_id = r.id
      ) rm on true
      left join etims_documents red on red.business_id = r.business_id and red.return_id = r.id
      where ${inRange('r')}
    ) rows
    order by kind, sort_number, sort_position
  ) to stdout with (format csv, header true)`;
}

/**
 * Streams the sales CSV of `range` into `sink` (e.g. storage.put) from one connection of
 * `pool`, inside a read-only snapshot, and returns the number of data rows. On failure the
 * connection is discarded (a half-read COPY cannot be rolled back on it).
 */
export async function streamSalesCsv(
  pool: pg.Pool,
  range: SalesCsvRange,
  sink: (csv: Readable) => Promise<void>,
  options: { statementTimeoutMs: number },
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    await client.query(
      `select set_config('TimeZone', $1, true), set_config('statement_timeout', $2, true)`,
      [range.timezone, String(options.statementTimeoutMs)],
    );
    const csv = client.query(copyTo(salesCsvCopySql(client, range)));
    await sink(csv);
    await client.query('commit');
    client.release();
    return csv.rowCount;
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
}
