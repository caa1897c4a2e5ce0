import type { RecordedSale } from '../helpers/reports.js';

// The summary computed in plain TypeScript from the stored sales: the independent check of
// the SQL in src/modules/reports/summary.repo.ts.

export type Group = 'day' | 'product' | 'cashier' | 'paymentMethod';

interface Row {
  key: string;
  count: number;
  gross: number;
  discount: number;
  tax: number;
  returns: number;
  net: number;
}

/** A return (the Return resource's fields the summary reads). */
export interface RecordedReturn {
  occurredAt: string;
  cashierId: string;
  total: number;
  lines: { productId: string; total: number }[];
  refunds: { method: string; amount: number }[];
}

/** The local calendar day of an instant, by the platform's own timezone database. */
export function localDay(iso: string, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(iso));
}

/** Round half away from zero of a / b, exactly (positive integers). */
const divRound = (a: bigint, b: bigint) => (2n * a + b) / (2n * b);

export function expectedSummary(
  sales: RecordedSale[],
  timezone: string,
  from: string,
  to: string,
  groupBy: Group,
  returns: RecordedReturn[] = [],
) {
  const returnsInRange = returns.filter((row) => {
    const day = localDay(row.occurredAt, timezone);
    return day >= from && day <= to;
  });
  const returned = returnsInRange.reduce((sum, row) => sum + row.total, 0);
  const inRange = sales.filter((sale) => {
    const day = localDay(sale.occurredAt, timezone);
    return day >= from && day <= to;
  });
  const completed = inRange.filter((sale) => sale.status === 'completed');
  const sum = (pick: (sale: RecordedSale) => number) =>
    completed.reduce((total, sale) => total + pick(sale), 0);
  const totals = {
    count: completed.length,
    gross: sum((sale) => sale.subtotal),
    discount: sum((sale) => sale.discount),
    tax: sum((sale) => sale.tax),
    returns: returned,
    net: sum((sale) => sale.total) - returned,
    voidedCount: inRange.length - completed.length,
  };

  const rows = new Map<string, Row & { sales: Set<string> }>();
  const rowOf = (key: string) =>
    rows.get(key) ?? {
      key,
      count: 0,
      gross: 0,
      discount: 0,
      tax: 0,
      returns: 0,
      net: 0,
      sales: new Set<string>(),
    };
  const addReturn = (key: string, amount: number) => {
    const row = rowOf(key);
    row.returns += amount;
    row.net -= amount;
    rows.set(key, row);
  };
  const add = (key: string, saleId: string, part: Omit<Row, 'key' | 'count' | 'returns'>) => {
    const row = rowOf(key);
    row.sales.add(saleId);
    row.count = row.sales.size;
    row.gross += part.gross;
    row.discount += part.discount;
    row.tax += part.tax;
    row.net += part.net;
    rows.set(key, row);
  };

  for (const sale of completed) {
    const whole = { gross: sale.subtotal, discount: sale.discount, tax: sale.tax, net: sale.total };
    if (groupBy === 'day') add(localDay(sale.occurredAt, timezone), sale.id, whole);
    if (groupBy === 'cashier') add(sale.cashierId, sale.id, whole);
    if (groupBy === 'product') {
      // The Sale resource does not carry the shares: spread the sale discount by largest
      // remainder, as API.md specifies.
      const shares = spread(
        sale.discount,
        sale.lines.map((line) => line.total),
      );
      sale.lines.forEach((line, index) => {
        const share = shares[index]!;
        add(line.productId, sale.id, {
          gross: line.total,
          discount: share,
          tax: line.tax,
          net: line.total - share,
        });
      });
    }
    if (groupBy === 'paymentMethod') {
      const applied = new Map<string, number>();
      for (const payment of sale.payments)
        applied.set(payment.method, (applied.get(payment.method) ?? 0) + payment.amount);
      if (applied.has('cash')) applied.set('cash', applied.get('cash')! - sale.change);
      let upto = 0n;
      for (const method of [...applied.keys()].sort()) {
        const amount = BigInt(applied.get(method)!);
        const before = upto;
        upto += amount;
        const total = BigInt(sale.total);
        const tax =
          total === 0n
            ? 0
            : Number(
                divRound(BigInt(sale.tax) * upto, total) -
                  divRound(BigInt(sale.tax) * before, total),
              );
        add(method, sale.id, { gross: Number(amount), discount: 0, tax, net: Number(amount) });
      }
    }
  }
  for (const row of returnsInRange) {
    if (groupBy === 'day') addReturn(localDay(row.occurredAt, timezone), row.total);
    if (groupBy === 'cashier') addReturn(row.cashierId, row.total);
    if (groupBy === 'product') for (const line of row.lines) addReturn(line.productId, line.total);
    if (groupBy === 'paymentMethod')
      for (const refund of row.refunds) addReturn(refund.method, refund.amount);
  }
  const list = [...rows.values()].map(({ sales: _sales, ...row }) => row);
  list.sort((a, b) =>
    groupBy === 'day' ? a.key.localeCompare(b.key) : b.net - a.net || (a.key < b.key ? -1 : 1),
  );
  return { totals, rows: list };
}

/** `amount` spread over `weights` in proportion, largest remainder first (ties: earlier line). */
export function spread(amount: number, weights: number[]): number[] {
  const sum = weights.reduce((total, weight) => total + weight, 0);
  if (amount === 0 || sum === 0) return weights.map(() => 0);
  const exact = weights.map((weight) => BigInt(amount) * BigInt(weight));
  const shares = exact.map((value) => value / BigInt(sum));
  let left = BigInt(amount) - shares.reduce((total, share) => total + share, 0n);
  const order = exact
    .map((value, index) => ({ index, remainder: value % BigInt(sum) }))
    .sort((a, b) =>
      b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : a.index - b.index,
    );
  for (const { index } of order) {
    if (left === 0n) break;
    shares[index]! += 1n;
    left -= 1n;
  }
  return shares.map(Number);
}
