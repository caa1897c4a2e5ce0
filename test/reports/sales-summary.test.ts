import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { insertProduct, type TestProduct } from '../helpers/sales-factories.js';
import { expectedSummary, localDay, type Group } from './expected-summary.js';
import { randomSaleBody, seededRandom, syncSales, type RecordedSale } from '../helpers/reports.js';

const { deps, http } = createTestApp();
const GROUPS: Group[] = ['day', 'product', 'cashier', 'paymentMethod'];

async function shopWithProducts(timezone = 'Africa/Nairobi') {
  const business = await createBusiness(deps, { timezone });
  const products: TestProduct[] = [];
  for (const [index, price, taxRate] of [
    [1, 15_000, 1600],
    [2, 4_998, 1600],
    [3, 120_000, 0],
    [4, 7_350 * 2, 800],
    [5, 2, 1600],
  ] as const) {
    products.push(
      await insertProduct(deps, business.id, business.owner.id, {
        name: `Item ${index}`,
        price,
        taxRate,
      }),
    );
  }
  return { business, products };
}

const summary = (business: TestBusiness, query: string, auth = business.manager.auth) =>
  http.get(`/reports/sales-summary?${query}`).set('Authorization', auth);

/** Random instants in [start, start + days), plus exact local-midnight edges. */
function instants(random: ReturnType<typeof seededRandom>, start: Date, days: number, n: number) {
  return Array.from(
    { length: n },
    () => new Date(start.getTime() + Math.floor(random.next() * days * 86_400_000)),
  );
}

describe('GET /reports/sales-summary', () => {
  it.each([
    ['Africa/Nairobi', 20261101, '2026-03-01T00:00:00+03:00'],
    // +05:45, and a zone with a DST change inside the range (30 Mar / 26 Oct 2025).
    ['Asia/Kathmandu', 777, '2026-02-20T00:00:00+05:45'],
    ['Europe/London', 4242, '2026-03-25T00:00:00Z'],
  ])(
    'matches an independent computation over randomised sales (%s)',
    async (timezone, seed, startIso) => {
      const { business, products } = await shopWithProducts(timezone);
      const random = seededRandom(seed);
      const start = new Date(startIso);
      // Sales on both sides of every local midnight in the range: the last millisecond of a
      // day and the first of the next.
      const edges: Date[] = [];
      for (let day = 1; day <= 6; day++) {
        const midnight = new Date(
          `${localDay(new Date(start.getTime() + day * 86_400_000 + 12 * 3_600_000).toISOString(), timezone)}T00:00:00`,
        );
        // `midnight` is in UTC terms; shift it to the zone's local midnight via its offset.
        const offsetMs =
          new Date(midnight.toLocaleString('en-US', { timeZone: 'UTC' })).getTime() -
          new Date(midnight.toLocaleString('en-US', { timeZone: timezone })).getTime();
        const local = new Date(midnight.getTime() + offsetMs);
        edges.push(new Date(local.getTime() - 1), local);
      }
      const times = [...instants(random, start, 8, 140), ...edges];
      const cashiers = [business.cashier, business.cashier2, business.manager];
      const recorded: RecordedSale[] = [];
      for (const cashier of cashiers) {
        const mine = times.filter(
          (_, index) => index % cashiers.length === cashiers.indexOf(cashier),
        );
        recorded.push(
          ...(await syncSales(
            http,
            cashier.auth,
            mine.map((time) => randomSaleBody(random, products, time)),
          )),
        );
      }
      // Void about one in eight.
      for (const sale of recorded.filter(() => random.next() < 0.125)) {
        const response = await http
          .post(`/sales/${sale.id}/void`)
          .set('Authorization', business.manager.auth)
          .send({ reason: 'test' });
        expect(response.status).toBe(200);
        sale.status = 'voided';
      }

      const days = [...new Set(times.map((time) => localDay(time.toISOString(), timezone)))].sort();
      const ranges = [
        [days[0]!, days.at(-1)!],
        [days[1]!, days[3]!],
        [days[2]!, days[2]!],
      ] as const;
      for (const [from, to] of ranges) {
        for (const groupBy of GROUPS) {
          const response = await summary(business, `from=${from}&to=${to}&groupBy=${groupBy}`);
          expect(response.status).toBe(200);
          const expected = expectedSummary(recorded, timezone, from, to, groupBy);
          expect(response.body.currency).toBe('KES');
          expect(response.body.totals).toEqual(expected.totals);
          expect(
            (response.body.rows as { label: string }[]).map(({ label: _label, ...row }) => row),
          ).toEqual(expected.rows);
          // Every grouping but payment methods adds up to the totals; methods add up to net.
          const rows = response.body.rows as Record<string, number>[];
          const sum = (field: string) => rows.reduce((total, row) => total + (row[field] ?? 0), 0);
          expect(sum('net')).toBe(expected.totals.net);
          expect(sum('tax')).toBe(expected.totals.tax);
          if (groupBy !== 'paymentMethod') expect(sum('gross')).toBe(expected.totals.gross);
        }
      }
    },
    120_000,
  );

  it('puts a sale at 23:30 Nairobi time on that day, and labels rows', async () => {
    const { business, products } = await shopWithProducts();
    const [late, early] = await syncSales(http, business.cashier.auth, [
      {
        clientRequestId: crypto.randomUUID(),
        occurredAt: '2026-05-10T23:30:00+03:00',
        lines: [{ productId: products[0]!.id, quantity: 2 }],
        payments: [{ method: 'cash', amount: 40_000 }],
      },
      {
        clientRequestId: crypto.randomUUID(),
        occurredAt: '2026-05-11T00:00:00+03:00',
        lines: [{ productId: products[1]!.id, quantity: 1 }],
        payments: [{ method: 'mpesa', amount: 4_998 }],
      },
    ]);
    const byDay = await summary(business, 'from=2026-05-10&to=2026-05-11&groupBy=day');
    expect(byDay.body.rows).toEqual([
      {
        key: '2026-05-10',
        label: '2026-05-10',
        count: 1,
        gross: 30_000,
        discount: 0,
        tax: late!.tax,
        returns: 0,
        net: 30_000,
      },
      {
        key: '2026-05-11',
        label: '2026-05-11',
        count: 1,
        gross: 4_998,
        discount: 0,
        tax: early!.tax,
        returns: 0,
        net: 4_998,
      },
    ]);
    const byMethod = await summary(business, 'from=2026-05-10&to=2026-05-10&groupBy=paymentMethod');
    // 40,000 tendered, 10,000 change: cash applied 30,000.
    expect(byMethod.body.rows).toEqual([
      {
        key: 'cash',
        label: 'Cash',
        count: 1,
        gross: 30_000,
        discount: 0,
        tax: late!.tax,
        returns: 0,
        net: 30_000,
      },
    ]);
    const byProduct = await summary(business, 'from=2026-05-10&to=2026-05-11&groupBy=product');
    expect(byProduct.body.rows.map((row: { label: string }) => row.label)).toEqual([
      'Item 1',
      'Item 2',
    ]);
    const byCashier = await summary(business, 'from=2026-05-10&to=2026-05-11&groupBy=cashier');
    expect(byCashier.body.rows).toHaveLength(1);
    expect(byCashier.body.rows[0]).toMatchObject({ key: business.cashier.id, count: 2 });
    expect(byCashier.body.rows[0].label).toMatch(/^Cashier /);

    // Another business sees none of it.
    const other = await createBusiness(deps);
    const theirs = await summary(other, 'from=2026-05-10&to=2026-05-11', other.owner.auth);
    expect(theirs.body).toEqual({
      currency: 'KES',
      totals: { count: 0, gross: 0, discount: 0, tax: 0, returns: 0, net: 0, voidedCount: 0 },
      taxByType: Object.fromEntries(
        ['A', 'B', 'C', 'D', 'E'].map((type) => [type, { taxable: 0, tax: 0 }]),
      ),
      rows: [],
    });
  });

  it('refuses bad ranges and groupings with 400', async () => {
    const { business } = await shopWithProducts();
    for (const query of [
      'from=2026-05-10&to=2026-05-09',
      'from=2025-01-01&to=2026-01-02',
      'from=2026-02-30&to=2026-03-01',
      'from=2026-5-1&to=2026-05-02',
      'to=2026-05-02',
      'from=2026-05-01&to=2026-05-02&groupBy=week',
    ]) {
      const response = await summary(business, query);
      expect({ query, status: response.status, code: response.body.code }).toEqual({
        query,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    // 366 days (a leap year) is the longest range allowed.
    expect((await summary(business, 'from=2028-01-01&to=2028-12-31')).status).toBe(200);
  });

  it('is guarded: 401 without a token, 403 for a cashier', async () => {
    const owner = await createBusiness(deps);
    const other = await createBusiness(deps);
    await expectRouteGuards(
      http,
      { owner, other },
      {
        method: 'get',
        path: '/reports/sales-summary?from=2026-01-01&to=2026-01-31',
        allowed: ['owner', 'manager'],
        namesResource: false,
      },
    );
  });
});
