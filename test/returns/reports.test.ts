import { Writable, type Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { streamSalesCsv } from '../../src/modules/reports/sales-csv.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { postReturn, returnBody, sell, type SoldSale } from '../helpers/returns.js';
import { insertProduct } from '../helpers/sales-factories.js';
import { expectedSummary, type Group, type RecordedReturn } from '../reports/expected-summary.js';
import type { RecordedSale } from '../helpers/reports.js';

const { http, deps } = createTestApp();
const GROUPS: Group[] = ['day', 'product', 'cashier', 'paymentMethod'];

/**
 * Sales on 1–2 March (Nairobi) with returns on 2 and 3 March: one by the manager with a
 * split refund, one of a discounted line, and a day (3 March) with returns only.
 */
async function shopWithSalesAndReturns() {
  const shop = await createBusiness(deps, { timezone: 'Africa/Nairobi' });
  const soap = await insertProduct(deps, shop.id, shop.owner.id, { name: 'Soap', price: 1001 });
  const rice = await insertProduct(deps, shop.id, shop.owner.id, { name: 'Rice', price: 333 });
  const sales: SoldSale[] = [
    await sell(http, shop.cashier, [{ product: soap, quantity: 3 }], {
      occurredAt: '2026-03-01T10:00:00+03:00',
    }),
    await sell(
      http,
      shop.cashier2,
      [
        { product: soap, quantity: 2 },
        { product: rice, quantity: 3, discount: 1 },
      ],
      { occurredAt: '2026-03-02T10:00:00+03:00', discount: 50 },
    ),
  ];
  const [first, second] = sales as [SoldSale, SoldSale];
  const returns: RecordedReturn[] = [];
  const give = async (
    sale: SoldSale,
    lines: { saleLineId: string; quantity: number }[],
    occurredAt: string,
    split = false,
  ) => {
    // Ask the server for the total first: a wrong refund is refused and writes nothing.
    const probe = await postReturn(http, shop.manager, returnBody(sale, lines, 1, { occurredAt }));
    const total = Number(/is (\d+) cents/.exec(probe.body.detail as string)?.[1]);
    const refunds = split
      ? [
          { method: 'cash', amount: total - 100 },
          { method: 'mpesa', amount: 100, reference: 'QX1' },
        ]
      : [{ method: 'cash', amount: total }];
    const response = await postReturn(
      http,
      shop.manager,
      returnBody(sale, lines, 0, { occurredAt, refunds }),
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    returns.push(response.body as RecordedReturn);
  };
  await give(
    first,
    [{ saleLineId: first.lines[0]!.id, quantity: 1 }],
    '2026-03-02T12:00:00+03:00',
    true,
  );
  await give(
    second,
    [
      { saleLineId: second.lines[0]!.id, quantity: 2 },
      { saleLineId: second.lines[1]!.id, quantity: 1.5 },
    ],
    '2026-03-03T23:30:00+03:00',
  );
  return { shop, sales: sales as unknown as RecordedSale[], returns };
}

describe('reports with returns', () => {
  it('the summary counts returns by their own day, cashier, product and refund method; net = gross − discount − returns', async () => {
    const { shop, sales, returns } = await shopWithSalesAndReturns();
    for (const [from, to] of [
      ['2026-03-01', '2026-03-03'],
      ['2026-03-02', '2026-03-02'],
      ['2026-03-03', '2026-03-03'],
    ] as const) {
      for (const groupBy of GROUPS) {
        const response = await http
          .get(`/reports/sales-summary?from=${from}&to=${to}&groupBy=${groupBy}`)
          .set('Authorization', shop.owner.auth);
        expect(response.status).toBe(200);
        const expected = expectedSummary(sales, 'Africa/Nairobi', from, to, groupBy, returns);
        expect(response.body.totals, `${from}..${to}`).toEqual(expected.totals);
        expect(
          (response.body.rows as { label: string }[]).map(({ label: _label, ...row }) => row),
          `${from}..${to} by ${groupBy}`,
        ).toEqual(expected.rows);
      }
    }
    const all = await http
      .get('/reports/sales-summary?from=2026-03-01&to=2026-03-03')
      .set('Authorization', shop.owner.auth);
    const returned = returns.reduce((sum, row) => sum + row.total, 0);
    expect(all.body.totals.returns).toBe(returned);
    expect(all.body.totals.net).toBe(all.body.totals.gross - all.body.totals.discount - returned);
    // By location (all at Main): the one row carries every sale and return.
    const byLocation = await http
      .get('/reports/sales-summary?from=2026-03-01&to=2026-03-03&groupBy=location')
      .set('Authorization', shop.owner.auth);
    expect(byLocation.body.rows).toHaveLength(1);
    expect(byLocation.body.rows[0]).toMatchObject({
      label: 'Main',
      returns: returned,
      net: all.body.totals.net,
    });
    // 3 March: returns only, so a row with no sales and a negative net.
    const onlyReturns = await http
      .get('/reports/sales-summary?from=2026-03-03&to=2026-03-03&groupBy=day')
      .set('Authorization', shop.owner.auth);
    expect(onlyReturns.body.rows).toEqual([
      {
        key: '2026-03-03',
        label: '2026-03-03',
        count: 0,
        gross: 0,
        discount: 0,
        tax: 0,
        returns: returns[1]!.total,
        net: -returns[1]!.total,
      },
    ]);
  });

  it('the CSV lists each returned line after the sales, negative, and adds up to net', async () => {
    const { shop, returns } = await shopWithSalesAndReturns();
    let text = '';
    const rowCount = await streamSalesCsv(
      deps.pool,
      {
        businessId: shop.id,
        from: '2026-03-01',
        to: '2026-03-03',
        timezone: 'Africa/Nairobi',
        locationIds: null,
      },
      (csv: Readable) =>
        new Promise<void>((resolve, reject) => {
          csv
            .pipe(
              new Writable({
                write(chunk: Buffer, _encoding, done) {
                  text += chunk.toString('utf8');
                  done();
                },
              }),
            )
            .on('finish', resolve)
            .on('error', reject);
        }),
      { statementTimeoutMs: 30_000 },
    );
    const rows = parse<Record<string, string>>(text, { columns: true });
    expect(rows).toHaveLength(rowCount);
    expect(rows.map((row) => [row.status, row.returnNumber])).toEqual([
      ['completed', ''],
      ['completed', ''],
      ['completed', ''],
      ['returned', '1'],
      ['returned', '2'],
      ['returned', '2'],
    ]);
    expect(rows[3]).toMatchObject({
      occurredAt: '2026-03-02T12:00:00.000+03:00',
      productName: 'Soap',
      quantity: '-1',
      unitPrice: '10.01',
      discount: '0.00',
      lineTotal: (-returns[0]!.total / 100).toFixed(2),
      paymentMethods: 'cash;mpesa',
    });
    expect(rows[5]).toMatchObject({ productName: 'Rice', quantity: '-1.5' });
    const cents = (value: string | undefined) => Math.round(Number(value) * 100);
    const summary = await http
      .get('/reports/sales-summary?from=2026-03-01&to=2026-03-03')
      .set('Authorization', shop.owner.auth);
    expect(rows.reduce((sum, row) => sum + cents(row.lineTotal), 0)).toBe(summary.body.totals.net);
  });
});
