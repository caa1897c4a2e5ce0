import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problem.js';
import {
  insertProduct,
  defaultLocationId,
  levelsOf,
  saleBody,
  stockOf,
} from '../helpers/sales-factories.js';
import { assign, openLocation } from '../helpers/locations.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const { http, deps } = createTestApp();

const sell = (auth: string, body: Record<string, unknown>) =>
  http.post('/sales').set('Authorization', auth).send(body);

async function levelAt(productId: string, locationId: string) {
  const levels = await levelsOf(deps, productId);
  return levels.find((level) => level.locationId === locationId)?.quantity ?? 0;
}

describe('sales at locations', () => {
  it('a sale takes stock at its location; omitted → the default; sale and events carry locationId', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner);
    const product = await insertProduct(deps, shop.id, shop.owner.id, {
      stockQuantity: 10,
      lowStockThreshold: 1,
    });
    await http
      .post('/inventory/adjustments')
      .set('Authorization', shop.owner.auth)
      .set('Idempotency-Key', randomUUID())
      .send({
        items: [{ productId: product.id, type: 'receive', quantity: 3, locationId: branch.id }],
      })
      .expect(201);
    const atBranch = await sell(
      shop.cashier.auth,
      saleBody([{ product, quantity: 2 }], { locationId: branch.id }),
    ).expect(201);
    expect(atBranch.body.locationId).toBe(branch.id);
    const atMain = await sell(shop.cashier.auth, saleBody([{ product, quantity: 3 }])).expect(201);
    expect(atMain.body.locationId).toBe(main);

    // Low stock is judged per location: the branch crossed its threshold (3 → 1), Main
    // (10 → 7) did not, and neither did the total.
    expect(await levelAt(product.id, branch.id)).toBe(1);
    expect(await levelAt(product.id, main)).toBe(7);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 8, ledger: 8 });

    const events = await outboxRowsOf(deps, shop.id);
    const created = events.filter((row) => row.type === 'sale.created');
    expect(created.map((row) => (row.payload as { locationId: string }).locationId)).toEqual([
      branch.id,
      main,
    ]);
    const low = events.filter((row) => row.type === 'inventory.low_stock');
    expect(low.map((row) => row.payload)).toEqual([
      expect.objectContaining({ locationId: branch.id, quantity: 1, stockQuantity: 11 }),
    ]);

    const filtered = await http
      .get(`/sales?locationId=${branch.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(filtered.body.data.map((sale: { id: string }) => sale.id)).toEqual([atBranch.body.id]);

    // A void gives the stock back where it was taken.
    await http
      .post(`/sales/${atBranch.body.id}/void`)
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'Wrong till' })
      .expect(200);
    expect(await levelAt(product.id, branch.id)).toBe(3);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 10, ledger: 10 });
  });

  it('one batch selling one product at two locations: each level and each movement right', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 10 });
    const sales = [main, branch.id, main, branch.id].map((locationId, index) =>
      saleBody([{ product, quantity: index + 1 }], { locationId }),
    );
    const response = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales })
      .expect(200);
    expect(response.body.results.map((r: { status: string }) => r.status)).toEqual(
      Array(4).fill('created'),
    );
    expect(await levelAt(product.id, main)).toBe(10 - 1 - 3);
    expect(await levelAt(product.id, branch.id)).toBe(-2 - 4);
    const movements = await deps.db.execute<{ location_id: string; quantity_after: string }>(sql`
      select location_id, quantity_after::float8 as quantity_after from stock_movements
      where product_id = ${product.id} and type = 'sale' order by id`);
    expect(movements.rows.map((row) => [row.location_id, Number(row.quantity_after)])).toEqual([
      [main, 9],
      [branch.id, -2],
      [main, 6],
      [branch.id, -6],
    ]);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 0, ledger: 0 });
  });

  it('concurrent sales at two locations on one product: ledger exact per location and in total', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 100 });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        sell(
          shop.cashier.auth,
          saleBody([{ product, quantity: 1 }], { locationId: index % 2 ? branch.id : main }),
        ),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    expect(await levelAt(product.id, main)).toBe(90);
    expect(await levelAt(product.id, branch.id)).toBe(-10);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 80, ledger: 80 });
  });

  it('unknown or another business location → 422; outside the cashier assignment → 403; nothing written', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    for (const locationId of [randomUUID(), await defaultLocationId(deps, other.id)]) {
      const refused = await sell(shop.cashier.auth, saleBody([{ product }], { locationId }));
      expectProblem(refused, 422, 'UNPROCESSABLE');
      expect(refused.body.errors[0].path).toBe('locationId');
    }
    await assign(http, shop.owner, shop.cashier, [branch.id]).expect(200);
    const main = await defaultLocationId(deps, shop.id);
    expectProblem(
      await sell(shop.cashier.auth, saleBody([{ product }], { locationId: main })),
      403,
      'FORBIDDEN',
    );
    // In a sync batch the one sale is rejected with the same problem, the others recorded.
    const batch = await http
      .post('/sales/sync')
      .set('Authorization', shop.cashier.auth)
      .send({ sales: [saleBody([{ product }], { locationId: main }), saleBody([{ product }])] })
      .expect(200);
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual([
      'rejected',
      'created',
    ]);
    expect(batch.body.results[0].error.code).toBe('FORBIDDEN');
    // Omitted → the cashier's only location.
    expect(batch.body.results[1].sale.locationId).toBe(branch.id);
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 99, ledger: 99 });
  });

  it('a manager reads and voids only the sales of their locations (403 elsewhere, nothing changed)', async () => {
    const shop = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const atMain = await sell(shop.cashier.auth, saleBody([{ product }])).expect(201);
    await assign(http, shop.owner, shop.manager, [branch.id]).expect(200);

    const path = `/sales/${atMain.body.id}`;
    expectProblem(await http.get(path).set('Authorization', shop.manager.auth), 403, 'FORBIDDEN');
    expectProblem(
      await http
        .post(`${path}/void`)
        .set('Authorization', shop.manager.auth)
        .send({ reason: 'wrong till' }),
      403,
      'FORBIDDEN',
    );
    const read = await http.get(path).set('Authorization', shop.owner.auth).expect(200);
    expect(read.body.status).toBe('completed');
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 99, ledger: 99 });
  });

  it('a sale at a location archived a minute ago is accepted (a sale is a fact)', async () => {
    const shop = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    await http.delete(`/locations/${branch.id}`).set('Authorization', shop.owner.auth).expect(204);
    const sale = await sell(
      shop.cashier.auth,
      saleBody([{ product }], {
        locationId: branch.id,
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
      }),
    );
    expect(sale.status, JSON.stringify(sale.body)).toBe(201);
    expect(sale.body.locationId).toBe(branch.id);
    expect(await levelAt(product.id, branch.id)).toBe(-1);
  });

  it("a cashier's assignment changed while the sale is in flight: the sale stands as authenticated; the next is refused", async () => {
    const shop = await createBusiness(deps);
    const a = await defaultLocationId(deps, shop.id);
    const b = (await openLocation(http, shop.owner)).id;
    await assign(http, shop.owner, shop.cashier, [a]).expect(200);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const body = saleBody([{ product }]);

    // Hold the business's catalog lock, so the sale (already authenticated, assignment [A])
    // waits inside its write; move the cashier to B meanwhile; then let the sale go.
    const holder = await deps.pool.connect();
    let inFlight: Promise<{ status: number; body: { locationId: string } }> | undefined;
    try {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `catalog:${shop.id}`,
      ]);
      inFlight = sell(shop.cashier.auth, body).then((r) => r);
      await waitFor(async () => {
        const waiting = await deps.db.execute(
          sql`select 1 from pg_locks where locktype = 'advisory' and not granted`,
        );
        return waiting.rows.length > 0;
      });
      await assign(http, shop.owner, shop.cashier, [b]).expect(200);
    } finally {
      await holder.query('commit');
      holder.release();
    }
    const response = await inFlight;
    expect(response.status).toBe(201);
    expect(response.body.locationId).toBe(a);
    // Its replay answers the stored sale; a new sale at A is now refused.
    const replay = await sell(shop.cashier.auth, body);
    expect(replay.status).toBe(200);
    expectProblem(
      await sell(shop.cashier.auth, saleBody([{ product }], { locationId: a })),
      403,
      'FORBIDDEN',
    );
    expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 99, ledger: 99 });
  });

  it('sales summary: locationId filter and groupBy=location', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner, 'Westlands');
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 10_000 });
    await sell(shop.cashier.auth, saleBody([{ product, quantity: 2 }])).expect(201);
    await sell(
      shop.cashier.auth,
      saleBody([{ product, quantity: 1 }], { locationId: branch.id }),
    ).expect(201);
    const day = new Date().toLocaleDateString('en-CA', { timeZone: 'Africa/Nairobi' });
    const grouped = await http
      .get(`/reports/sales-summary?from=${day}&to=${day}&groupBy=location`)
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(grouped.body.rows).toEqual([
      expect.objectContaining({ key: main, label: 'Main', count: 1, net: 20_000 }),
      expect.objectContaining({ key: branch.id, label: 'Westlands', count: 1, net: 10_000 }),
    ]);
    const filtered = await http
      .get(`/reports/sales-summary?from=${day}&to=${day}&locationId=${branch.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(filtered.body.totals).toMatchObject({ count: 1, net: 10_000 });
    // A manager limited to Main sees Main's figures only, and is refused Westlands.
    await assign(http, shop.owner, shop.manager, [main]).expect(200);
    const scoped = await http
      .get(`/reports/sales-summary?from=${day}&to=${day}`)
      .set('Authorization', shop.manager.auth)
      .expect(200);
    expect(scoped.body.totals).toMatchObject({ count: 1, net: 20_000 });
    expectProblem(
      await http
        .get(`/reports/sales-summary?from=${day}&to=${day}&locationId=${branch.id}`)
        .set('Authorization', shop.manager.auth),
      403,
      'FORBIDDEN',
    );
  });
});

async function waitFor(check: () => Promise<boolean>) {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition never held');
}
