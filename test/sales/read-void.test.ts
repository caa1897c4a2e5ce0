import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { stockMovements } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness, type TestUser } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import {
  countSaleRows,
  insertProduct,
  saleBody,
  stockOf,
  type TestProduct,
} from '../helpers/sales-factories.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const { http, deps } = createTestApp();

interface SaleBody {
  id: string;
  number: number;
  cashierId: string;
  status: string;
  occurredAt: string;
}

async function sell(
  user: TestUser,
  product: TestProduct,
  overrides: Record<string, unknown> = {},
  quantity = 1,
): Promise<SaleBody> {
  const response = await http
    .post('/sales')
    .set('Authorization', user.auth)
    .send(saleBody([{ product, quantity }], overrides));
  expect(response.status).toBe(201);
  return response.body as SaleBody;
}

async function shopWithSales(): Promise<{
  shop: TestBusiness;
  product: TestProduct;
  mine: SaleBody;
  theirs: SaleBody;
}> {
  const shop = await createBusiness(deps);
  const product = await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 10 });
  const mine = await sell(shop.cashier, product);
  const theirs = await sell(shop.cashier2, product);
  return { shop, product, mine, theirs };
}

const idsOf = (body: { data: SaleBody[] }) => body.data.map((sale) => sale.id);

describe('GET /sales and /sales/{id}', () => {
  it('shows cashiers only their own sales; managers and owners see all', async () => {
    const { shop, mine, theirs } = await shopWithSales();
    const asCashier = await http.get('/sales').set('Authorization', shop.cashier.auth);
    expect(asCashier.status).toBe(200);
    expect(idsOf(asCashier.body)).toEqual([mine.id]);
    expect(asCashier.body.nextCursor).toBeNull();
    const filteredToOther = await http
      .get(`/sales?cashierId=${shop.cashier2.id}`)
      .set('Authorization', shop.cashier.auth);
    expect(idsOf(filteredToOther.body)).toEqual([]);

    const other = await http.get(`/sales/${theirs.id}`).set('Authorization', shop.cashier.auth);
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('NOT_FOUND');
    const own = await http.get(`/sales/${mine.id}`).set('Authorization', shop.cashier.auth);
    expect(own.status).toBe(200);

    const asManager = await http.get('/sales').set('Authorization', shop.manager.auth);
    expect(new Set(idsOf(asManager.body))).toEqual(new Set([mine.id, theirs.id]));
    const byCashier = await http
      .get(`/sales?cashierId=${shop.cashier2.id}`)
      .set('Authorization', shop.owner.auth);
    expect(idsOf(byCashier.body)).toEqual([theirs.id]);
    expect(
      (await http.get(`/sales/${theirs.id}`).set('Authorization', shop.manager.auth)).status,
    ).toBe(200);
  });

  it('pages newest first by occurredAt with an opaque cursor; refuses a forged cursor', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const sold: SaleBody[] = [];
    for (const minutesAgo of [50, 10, 40, 20, 30]) {
      sold.push(
        await sell(shop.manager, product, {
          occurredAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
        }),
      );
    }
    const expected = [...sold]
      .sort((a, b) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt))
      .map((sale) => sale.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await http
        .get(`/sales?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set('Authorization', shop.manager.auth);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...idsOf(page.body));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual(expected);

    const clamped = await http.get('/sales?limit=500').set('Authorization', shop.manager.auth);
    expect(clamped.status).toBe(200);
    for (const query of [
      'cursor=bogus',
      'limit=0',
      'limit=abc',
      'status=open',
      'from=2026-02-30',
    ]) {
      const response = await http.get(`/sales?${query}`).set('Authorization', shop.manager.auth);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
  });

  it('filters by business-local days: 23:30 in Nairobi is still that day', async () => {
    const shop = await createBusiness(deps, { timezone: 'Africa/Nairobi' });
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const late = await sell(shop.manager, product, { occurredAt: '2026-03-10T23:30:00+03:00' });
    const early = await sell(shop.manager, product, { occurredAt: '2026-03-11T00:30:00+03:00' });
    const day = async (query: string) =>
      idsOf((await http.get(`/sales?${query}`).set('Authorization', shop.manager.auth)).body);
    expect(await day('from=2026-03-10&to=2026-03-10')).toEqual([late.id]);
    expect(await day('from=2026-03-11&to=2026-03-11')).toEqual([early.id]);
    expect(await day('from=2026-03-10&to=2026-03-11')).toEqual([early.id, late.id]);
    expect(await day('to=2026-03-09')).toEqual([]);
    expect(await day('from=2026-03-11')).toEqual([early.id]);
    expect(await day('status=voided')).toEqual([]);
  });

  it('has the shared guards', async () => {
    const { shop, mine } = await shopWithSales();
    const other = await createBusiness(deps);
    const everyone = ['owner', 'manager', 'cashier'] as const;
    await expectRouteGuards(
      http,
      { owner: shop, other },
      { method: 'get', path: '/sales', allowed: everyone, namesResource: false },
    );
    await expectRouteGuards(
      http,
      { owner: shop, other },
      { method: 'get', path: `/sales/${mine.id}`, allowed: everyone, namesResource: true },
    );
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'post',
        path: `/sales/${mine.id}/receipt/email`,
        body: { email: 'customer@example.test' },
        allowed: everyone,
        namesResource: true,
      },
    );
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'post',
        path: `/sales/${mine.id}/void`,
        body: { reason: 'guard check' },
        allowed: ['owner', 'manager'],
        namesResource: true,
      },
    );
    // None of the guard calls voided it.
    const still = await http.get(`/sales/${mine.id}`).set('Authorization', shop.owner.auth);
    expect(still.body.status).toBe('completed');
  });
});

describe('POST /sales/{id}/void', () => {
  it('voids once: stock restored once via void movements, sale.voided once; a second void changes nothing', async () => {
    const { shop, product, mine } = await shopWithSales();
    const sale = await sell(shop.cashier, product, {}, 2.5);
    expect((await stockOf(deps, product.id)).stockQuantity).toBe(5.5);
    const before = await countSaleRows(deps, shop.id);

    const voided = await http
      .post(`/sales/${sale.id}/void`)
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'customer changed their mind' });
    expect(voided.status).toBe(200);
    expect(voided.body).toMatchObject({
      id: sale.id,
      status: 'voided',
      voidReason: 'customer changed their mind',
    });
    expect(Number.isNaN(Date.parse(voided.body.voidedAt))).toBe(false);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 8, ledger: 8 });
    const voidMovements = await deps.db
      .select()
      .from(stockMovements)
      .where(and(eq(stockMovements.saleId, sale.id), eq(stockMovements.type, 'void')));
    expect(voidMovements).toMatchObject([
      { delta: 2.5, quantityAfter: 8, createdBy: shop.manager.id },
    ]);

    const again = await http
      .post(`/sales/${sale.id}/void`)
      .set('Authorization', shop.owner.auth)
      .send({ reason: 'another reason' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(voided.body);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 8 });
    const after = await countSaleRows(deps, shop.id);
    expect(after).toEqual({
      ...before,
      movements: before.movements + 1,
      outbox: before.outbox + 1,
    });
    const events = (await outboxRowsOf(deps, shop.id)).filter((row) => row.type === 'sale.voided');
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toEqual(voided.body);

    // The other sale is untouched, and voided sales are listed under status=voided.
    const listed = await http.get('/sales?status=voided').set('Authorization', shop.owner.auth);
    expect(idsOf(listed.body)).toEqual([sale.id]);
    expect(
      (await http.get(`/sales/${mine.id}`).set('Authorization', shop.owner.auth)).body.status,
    ).toBe('completed');
  });

  it('concurrent voids of one sale restore stock exactly once', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 10 });
    const sale = await sell(shop.cashier, product, {}, 3);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        http
          .post(`/sales/${sale.id}/void`)
          .set('Authorization', index % 2 ? shop.owner.auth : shop.manager.auth)
          .send({ reason: 'duplicate ring-up' }),
      ),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 10, ledger: 10 });
    const events = (await outboxRowsOf(deps, shop.id)).filter((row) => row.type === 'sale.voided');
    expect(events).toHaveLength(1);
  });

  it('refuses a missing reason with 400 and an unknown sale with 404', async () => {
    const { shop, mine } = await shopWithSales();
    const noReason = await http
      .post(`/sales/${mine.id}/void`)
      .set('Authorization', shop.manager.auth)
      .send({});
    expect(noReason.status).toBe(400);
    const unknown = await http
      .post('/sales/0190f1c2-7a3e-7c1d-9b2a-3f4e5d6c7b8a/void')
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'x' });
    expect(unknown.status).toBe(404);
  });
});

describe('POST /sales/{id}/receipt/email', () => {
  it('queues a sale-receipt email in the outbox and answers 202', async () => {
    const { shop, mine, theirs } = await shopWithSales();
    const response = await http
      .post(`/sales/${mine.id}/receipt/email`)
      .set('Authorization', shop.cashier.auth)
      .send({ email: 'customer@example.test' });
    expect(response.status).toBe(202);
    const emails = (await outboxRowsOf(deps, shop.id)).filter((row) => row.kind === 'email');
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ type: 'sale-receipt' });
    const sale = (await http.get(`/sales/${mine.id}`).set('Authorization', shop.cashier.auth)).body;
    expect(emails[0]!.payload).toEqual({
      to: 'customer@example.test',
      businessName: shop.name,
      sale,
    });

    const notMine = await http
      .post(`/sales/${theirs.id}/receipt/email`)
      .set('Authorization', shop.cashier.auth)
      .send({ email: 'customer@example.test' });
    expect(notMine.status).toBe(404);
    const badEmail = await http
      .post(`/sales/${mine.id}/receipt/email`)
      .set('Authorization', shop.cashier.auth)
      .send({ email: 'not-an-email' });
    expect(badEmail.status).toBe(400);
    expect((await outboxRowsOf(deps, shop.id)).filter((row) => row.kind === 'email')).toHaveLength(
      1,
    );
  });
});
