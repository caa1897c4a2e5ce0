import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { sales, stockMovements } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import {
  countSaleRows,
  insertProduct,
  saleBody,
  stockOf,
  defaultLocationId,
} from '../helpers/sales-factories.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const { http, deps } = createTestApp();

async function shopWithProduct(overrides: Parameters<typeof insertProduct>[3] = {}) {
  const shop = await createBusiness(deps);
  const product = await insertProduct(deps, shop.id, shop.owner.id, overrides);
  return { shop, product };
}

describe('POST /sales', () => {
  it('records a sale: server-computed money, snapshots, stock through the ledger, events', async () => {
    const { shop, product } = await shopWithProduct({
      price: 11_600,
      taxRate: 1600,
      stockQuantity: 10,
      lowStockThreshold: 8,
    });
    const body = saleBody([{ product, quantity: 2.5 }], {
      receiptNumber: 'T1-0042',
      discount: 1_000,
      customerPhone: '0712345678',
      note: 'regular',
      payments: [
        { method: 'mpesa', amount: 20_000, reference: 'QK12ABC' },
        { method: 'cash', amount: 10_000 },
      ],
      total: 28_000,
    });
    const response = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
    expect(response.status).toBe(201);
    const sale = response.body;
    expect(response.headers.location).toBe(`/sales/${sale.id}`);
    expect(sale).toMatchObject({
      number: 1,
      receiptNumber: 'T1-0042',
      clientRequestId: body.clientRequestId,
      status: 'completed',
      occurredAt: body.occurredAt,
      cashierId: shop.cashier.id,
      locationId: await defaultLocationId(deps, shop.id),
      subtotal: 29_000,
      discount: 1_000,
      total: 28_000,
      // 28,000 × 1600 / 11600 = 3862.07
      tax: 3_862,
      change: 2_000,
      customerPhone: '0712345678',
      note: 'regular',
      voidedAt: null,
      voidReason: null,
      returnedTotal: 0,
      payments: [
        { method: 'mpesa', amount: 20_000, reference: 'QK12ABC' },
        { method: 'cash', amount: 10_000, reference: null },
      ],
    });
    expect(sale.lines).toEqual([
      {
        id: expect.any(String),
        productId: product.id,
        name: product.name,
        sku: product.sku,
        quantity: 2.5,
        unitPrice: 11_600,
        catalogPrice: 11_600,
        discount: 0,
        tax: 3_862,
        total: 29_000,
        returnedQuantity: 0,
      },
    ]);
    expect(Date.parse(sale.receivedAt)).toBeGreaterThan(Date.parse(body.occurredAt as string));

    const stock = await stockOf(deps, product.id);
    // Stock changes bump updatedAt (devices see them in the delta sync), never version.
    expect(stock).toEqual({
      stockQuantity: 7.5,
      version: product.version,
      ledger: 7.5,
      updatedAt: expect.any(Date),
    });
    expect(stock.updatedAt.getTime()).toBeGreaterThan(product.updatedAt.getTime());
    const movements = await deps.db
      .select()
      .from(stockMovements)
      .where(eq(stockMovements.saleId, sale.id));
    expect(movements).toMatchObject([
      { type: 'sale', delta: -2.5, quantityAfter: 7.5, createdBy: shop.cashier.id },
    ]);

    const events = await outboxRowsOf(deps, shop.id);
    expect(events.map((row) => [row.kind, row.type])).toEqual([
      ['event', 'sale.created'],
      ['event', 'inventory.low_stock'],
    ]);
    expect(events[0]!.payload).toEqual(sale);
    expect(events[1]!.payload).toEqual({
      productId: product.id,
      locationId: await defaultLocationId(deps, shop.id),
      name: product.name,
      sku: product.sku,
      quantity: 7.5,
      stockQuantity: 7.5,
      lowStockThreshold: 8,
    });

    const fetched = await http.get(`/sales/${sale.id}`).set('Authorization', shop.cashier.auth);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(sale);
  });

  it('keeps the paid unitPrice and the catalog price; spreads the sale discount; untracked stock untouched', async () => {
    const shop = await createBusiness(deps);
    const a = await insertProduct(deps, shop.id, shop.owner.id, { price: 1_000, taxRate: 1600 });
    const b = await insertProduct(deps, shop.id, shop.owner.id, {
      price: 333,
      taxRate: 0,
      trackStock: false,
      stockQuantity: 0,
    });
    const response = await http
      .post('/sales')
      .set('Authorization', shop.manager.auth)
      .send(
        saleBody([], {
          lines: [
            { productId: a.id, quantity: 1, unitPrice: 900, discount: 100 },
            { productId: b.id, quantity: 3 },
            { productId: a.id, quantity: 2 },
          ],
          discount: 101,
          payments: [{ method: 'card', amount: 3_698 }],
        }),
      );
    expect(response.status).toBe(201);
    // line totals 800, 999, 2000 → 3,799; discount 101 → shares 21.3, 26.6, 53.2 → 21, 27, 53.
    expect(response.body.lines.map((line: { total: number }) => line.total)).toEqual([
      800, 999, 2_000,
    ]);
    expect(response.body).toMatchObject({ subtotal: 3_799, discount: 101, total: 3_698 });
    // taxes: round(779×1600/11600)=107, 0, round(1947×1600/11600)=269
    expect(response.body.lines.map((line: { tax: number }) => line.tax)).toEqual([107, 0, 269]);
    expect(response.body.tax).toBe(376);
    expect(response.body.lines[0]).toMatchObject({ unitPrice: 900, catalogPrice: 1_000 });
    expect(response.body.change).toBe(0);
  });
});

describe('POST /sales rules', () => {
  it('answers 401/403 by the shared guards; every role may sell, even with an expired subscription', async () => {
    const { shop, product } = await shopWithProduct();
    const other = await createBusiness(deps);
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'post',
        path: '/sales',
        body: saleBody([{ product }]),
        allowed: ['owner', 'manager', 'cashier'],
        namesResource: false,
      },
    );
    const expired = await createBusiness(deps, { currentPeriodEnd: new Date('2020-01-01') });
    const expiredProduct = await insertProduct(deps, expired.id, expired.owner.id);
    const response = await http
      .post('/sales')
      .set('Authorization', expired.cashier.auth)
      .send(saleBody([{ product: expiredProduct }]));
    expect(response.status).toBe(201);
  });

  it('refuses business-rule violations with 422 and writes nothing', async () => {
    const { shop, product } = await shopWithProduct({ price: 1_000 });
    const other = await shopWithProduct();
    const cases: [string, Record<string, unknown>, string, string][] = [
      [
        'client total disagrees',
        saleBody([{ product }], { total: 999 }),
        'TOTALS_MISMATCH',
        'total',
      ],
      [
        'total mismatch is checked before payment coverage',
        saleBody([{ product }], { total: 999, payments: [{ method: 'cash', amount: 1 }] }),
        'TOTALS_MISMATCH',
        'total',
      ],
      [
        'payments do not cover the total',
        saleBody([{ product }], { payments: [{ method: 'cash', amount: 999 }] }),
        'UNPROCESSABLE',
        'payments',
      ],
      [
        'non-cash overpays',
        saleBody([{ product }], { payments: [{ method: 'mpesa', amount: 1_001 }] }),
        'UNPROCESSABLE',
        'payments.0.amount',
      ],
      [
        'occurredAt more than 5 min ahead',
        saleBody([{ product }], { occurredAt: new Date(Date.now() + 6 * 60_000).toISOString() }),
        'UNPROCESSABLE',
        'occurredAt',
      ],
      [
        'unknown product',
        saleBody([{ product }], {
          lines: [
            { productId: product.id, quantity: 1 },
            { productId: '0190f1c2-7a3e-7c1d-9b2a-3f4e5d6c7b8a', quantity: 1 },
          ],
        }),
        'UNPROCESSABLE',
        'lines.1.productId',
      ],
      [
        "another business's product",
        saleBody([{ product: other.product }]),
        'UNPROCESSABLE',
        'lines.0.productId',
      ],
      [
        'line discount above the line',
        saleBody([], { lines: [{ productId: product.id, quantity: 1, discount: 1_001 }] }),
        'UNPROCESSABLE',
        'lines.0.discount',
      ],
      [
        'sale discount above the subtotal',
        saleBody([{ product }], { discount: 1_001 }),
        'UNPROCESSABLE',
        'discount',
      ],
    ];
    for (const [name, body, code, path] of cases) {
      const response = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
      expect({ name, status: response.status, code: response.body.code }).toEqual({
        name,
        status: 422,
        code,
      });
      expect(response.body.retryable).toBe(false);
      expect(response.body.errors?.[0]?.path).toBe(path);
    }
    expect(await countSaleRows(deps, shop.id)).toEqual({
      sales: 0,
      lines: 0,
      payments: 0,
      movements: 0,
      outbox: 0,
    });
    expect((await stockOf(deps, product.id)).stockQuantity).toBe(100);
  });

  it('refuses malformed bodies with 400 VALIDATION_FAILED naming each field', async () => {
    const { shop, product } = await shopWithProduct();
    const valid = saleBody([{ product }]);
    const line = { productId: product.id, quantity: 1 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, lines: [{ ...line, quantity: 0 }] }, 'lines.0.quantity'],
      [{ ...valid, lines: [{ ...line, quantity: -1 }] }, 'lines.0.quantity'],
      [{ ...valid, lines: [{ ...line, quantity: 1.0005 }] }, 'lines.0.quantity'],
      [{ ...valid, lines: [{ ...line, quantity: 1_000_001 }] }, 'lines.0.quantity'],
      [{ ...valid, lines: [{ ...line, quantity: '1' }] }, 'lines.0.quantity'],
      [{ ...valid, lines: [{ ...line, unitPrice: 1.5 }] }, 'lines.0.unitPrice'],
      [{ ...valid, lines: [] }, 'lines'],
      [{ ...valid, lines: Array.from({ length: 201 }, () => line) }, 'lines'],
      [{ ...valid, payments: [] }, 'payments'],
      [{ ...valid, payments: [{ method: 'bitcoin', amount: 1 }] }, 'payments.0.method'],
      [{ ...valid, clientRequestId: 'not-a-uuid' }, 'clientRequestId'],
      [{ ...valid, occurredAt: '2026-11-22 10:00' }, 'occurredAt'],
      [{ ...valid, businessId: shop.id }, 'businessId'],
      [{ ...valid, discount: -1 }, 'discount'],
    ];
    for (const [body, path] of cases) {
      const response = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
      expect({ path, status: response.status, code: response.body.code }).toEqual({
        path,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
      expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    }
    expect((await countSaleRows(deps, shop.id)).sales).toBe(0);
  });

  it('accepts archived products, any UUID version as clientRequestId, and sells below zero', async () => {
    const { shop, product } = await shopWithProduct({ archived: true, stockQuantity: 1 });
    const response = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(
        saleBody([{ product, quantity: 3 }], {
          clientRequestId: 'a3bb189e-8bf9-3888-9912-ace4e6543002', // v3
          occurredAt: '2026-01-01T12:00:00.1234+03:00',
        }),
      );
    expect(response.status).toBe(201);
    expect(response.body.occurredAt).toBe('2026-01-01T09:00:00.123Z');
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: -2, ledger: -2 });
  });
});

describe('POST /sales idempotency', () => {
  it('replays the same body with 200 + Idempotent-Replayed, the sale as it is now', async () => {
    const { shop, product } = await shopWithProduct();
    const body = saleBody([{ product }]);
    const first = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
    expect(first.status).toBe(201);
    // Same canonical body: keys reordered, the same instant in another offset.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    reordered.occurredAt = new Date(Date.parse(body.occurredAt as string))
      .toISOString()
      .replace('Z', '+00:00');
    const again = await http.post('/sales').set('Authorization', shop.cashier.auth).send(reordered);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await countSaleRows(deps, shop.id)).toMatchObject({ sales: 1, movements: 1, outbox: 1 });
  });

  it('treats UUIDs case-insensitively: an upper-case replay is the same sale', async () => {
    const { shop, product } = await shopWithProduct();
    const body = saleBody([{ product }]);
    const upper = {
      ...body,
      clientRequestId: (body.clientRequestId as string).toUpperCase(),
      lines: [{ productId: product.id.toUpperCase(), quantity: 1 }],
    };
    const first = await http.post('/sales').set('Authorization', shop.cashier.auth).send(upper);
    expect(first.status).toBe(201);
    const again = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect((await countSaleRows(deps, shop.id)).sales).toBe(1);
  });

  it('refuses the same clientRequestId with a changed line: 422 IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
    const { shop, product } = await shopWithProduct();
    const body = saleBody([{ product }]);
    expect(
      (await http.post('/sales').set('Authorization', shop.cashier.auth).send(body)).status,
    ).toBe(201);
    const before = await countSaleRows(deps, shop.id);
    const stockBefore = await stockOf(deps, product.id);
    const changed = {
      ...body,
      lines: [{ productId: product.id, quantity: 2 }],
      payments: [{ method: 'cash', amount: 20_000 }],
    };
    const response = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(changed);
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await countSaleRows(deps, shop.id)).toEqual(before);
    expect(await stockOf(deps, product.id)).toEqual(stockBefore);
  });

  it('50 concurrent identical requests → one sale, one set of movements, one sale.created', async () => {
    const { shop, product } = await shopWithProduct({ stockQuantity: 100 });
    const body = saleBody([{ product, quantity: 2 }]);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        http.post('/sales').set('Authorization', shop.cashier.auth).send(body),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(49);
    expect(new Set(responses.map((response) => response.body.id as string)).size).toBe(1);
    expect(new Set(responses.map((response) => response.body.number as number))).toEqual(
      new Set([1]),
    );
    expect(await countSaleRows(deps, shop.id)).toEqual({
      sales: 1,
      lines: 1,
      payments: 1,
      movements: 1,
      outbox: 1,
    });
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 98, ledger: 98 });
    const [row] = await deps.db.select().from(sales).where(eq(sales.businessId, shop.id));
    expect(row?.id).toBe(responses[0]!.body.id);
  });
});
