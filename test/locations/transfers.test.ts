import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stockMovements } from '../../src/db/schema/index.js';
import { adjust, postProduct } from '../helpers/catalog.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problem.js';
import { defaultLocationId, levelsOf, stockOf } from '../helpers/sales-factories.js';
import { assign, openLocation, transfer } from '../helpers/locations.js';

const { http, deps } = createTestApp();

const movementCount = async (productId: string) =>
  (await deps.db.select().from(stockMovements).where(eq(stockMovements.productId, productId)))
    .length;

/** Level per location id, 0 where never stocked. */
async function levelAt(productId: string, locationId: string) {
  const levels = await levelsOf(deps, productId);
  return levels.find((level) => level.locationId === locationId)?.quantity ?? 0;
}

describe('stock per location', () => {
  it('adjustments take locationId; stockQuantity is the total, stock[] per location; low stock per location', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner);
    const soda = await postProduct(http, shop.owner, { lowStockThreshold: 5 });
    await adjust(http, shop.owner, [
      { productId: soda.id, type: 'receive', quantity: 20 },
      { productId: soda.id, type: 'receive', quantity: 3, locationId: branch.id },
    ]).expect(201);
    const product = await http
      .get(`/products/${soda.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(product.body.stockQuantity).toBe(23);
    expect(product.body.stock).toEqual(
      [
        { locationId: main, quantity: 20 },
        { locationId: branch.id, quantity: 3 },
      ].sort((a, b) => (a.locationId < b.locationId ? -1 : 1)),
    );
    // The catalog page (rendered by PostgreSQL) says the same.
    const page = await http.get('/products').set('Authorization', shop.owner.auth).expect(200);
    expect(page.body.data[0]).toEqual(product.body);

    // Only the branch is low (3 ≤ 5); the total (23) is not what counts.
    const low = await http
      .get('/inventory/low-stock')
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(low.body.data).toEqual([{ ...product.body, locationId: branch.id, quantity: 3 }]);
    const atMain = await http
      .get(`/inventory/low-stock?locationId=${main}`)
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(atMain.body.data).toEqual([]);

    const movements = await http
      .get(`/inventory/movements?locationId=${branch.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(movements.body.data).toEqual([
      expect.objectContaining({ locationId: branch.id, delta: 3, quantityAfter: 3 }),
    ]);
    // `count` sets the level at its location only.
    await adjust(http, shop.owner, [
      { productId: soda.id, type: 'count', quantity: 1, locationId: branch.id },
    ]).expect(201);
    expect(await stockOf(deps, soda.id)).toMatchObject({ stockQuantity: 21, ledger: 21 });
  });

  it('a transfer: 201 {movements}, a transfer_out/transfer_in pair per item, levels move, total unchanged', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner);
    const [a, b] = [await postProduct(http, shop.owner), await postProduct(http, shop.owner)];
    await adjust(http, shop.owner, [
      { productId: a.id, type: 'receive', quantity: 10 },
      { productId: b.id, type: 'receive', quantity: 4.5 },
    ]).expect(201);
    const before = await http.get(`/products/${a.id}`).set('Authorization', shop.owner.auth);

    const response = await transfer(http, shop.manager, {
      fromLocationId: main,
      toLocationId: branch.id,
      items: [
        { productId: a.id, quantity: 4 },
        { productId: b.id, quantity: 0.5 },
      ],
      note: 'Restock Westlands',
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const { movements } = response.body as { movements: Record<string, unknown>[] };
    expect(movements).toEqual([
      expect.objectContaining({
        productId: a.id,
        locationId: main,
        type: 'transfer_out',
        delta: -4,
        quantityAfter: 6,
      }),
      expect.objectContaining({
        productId: a.id,
        locationId: branch.id,
        type: 'transfer_in',
        delta: 4,
        quantityAfter: 4,
      }),
      expect.objectContaining({
        productId: b.id,
        locationId: main,
        type: 'transfer_out',
        delta: -0.5,
        quantityAfter: 4,
      }),
      expect.objectContaining({
        productId: b.id,
        locationId: branch.id,
        type: 'transfer_in',
        delta: 0.5,
        quantityAfter: 0.5,
      }),
    ]);
    const transferIds = new Set(movements.map((movement) => movement.transferId));
    expect(transferIds.size).toBe(1);
    expect(movements.every((movement) => movement.note === 'Restock Westlands')).toBe(true);
    expect(await stockOf(deps, a.id)).toMatchObject({ stockQuantity: 10, ledger: 10 });
    expect(await levelAt(a.id, branch.id)).toBe(4);
    // A stock change bumps updatedAt (the delta sync sees it), never version.
    const after = await http.get(`/products/${a.id}`).set('Authorization', shop.owner.auth);
    expect(after.body.updatedAt > before.body.updatedAt).toBe(true);
    expect(after.body.version).toBe(before.body.version);
    const delta = await http
      .get(`/products?updatedSince=${encodeURIComponent(before.body.updatedAt)}`)
      .set('Authorization', shop.owner.auth);
    expect(delta.body.data.map((p: { id: string }) => p.id)).toContain(a.id);
  });

  it('refuses: same location 422, zero/negative 400, another business product 404, archived 422, unknown 404 — nothing written', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner);
    const closed = await openLocation(http, shop.owner);
    await http.delete(`/locations/${closed.id}`).set('Authorization', shop.owner.auth).expect(204);
    const mine = await postProduct(http, shop.owner);
    const theirs = await postProduct(http, other.owner);
    await adjust(http, shop.owner, [{ productId: mine.id, type: 'receive', quantity: 5 }]).expect(
      201,
    );
    const item = (quantity: number, productId = mine.id) => ({ productId, quantity });
    const body = (overrides: Record<string, unknown>) => ({
      fromLocationId: main,
      toLocationId: branch.id,
      items: [item(1)],
      ...overrides,
    });

    const same = await transfer(http, shop.owner, body({ toLocationId: main }));
    expectProblem(same, 422, 'UNPROCESSABLE');
    expect(same.body.errors[0].path).toBe('toLocationId');
    for (const quantity of [0, -1, 0.0001]) {
      expectProblem(
        await transfer(http, shop.owner, body({ items: [item(quantity)] })),
        400,
        'VALIDATION_FAILED',
      );
    }
    const foreign = await transfer(
      http,
      shop.owner,
      body({ items: [item(1), item(1, theirs.id)] }),
    );
    expectProblem(foreign, 404, 'NOT_FOUND');
    expect(foreign.body.errors[0].path).toBe('items.1.productId');
    const archived = await transfer(http, shop.owner, body({ toLocationId: closed.id }));
    expectProblem(archived, 422, 'UNPROCESSABLE');
    expect(archived.body.errors[0].path).toBe('toLocationId');
    expectProblem(
      await transfer(
        http,
        shop.owner,
        body({ fromLocationId: await defaultLocationId(deps, other.id) }),
      ),
      404,
      'NOT_FOUND',
    );
    expectProblem(await transfer(http, shop.cashier, body({})), 403, 'FORBIDDEN');
    expectProblem(
      await http.post('/inventory/transfers').set('Authorization', shop.owner.auth).send(body({})),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await transfer(http, shop.owner, { ...body({}), businessId: other.id }),
      400,
      'VALIDATION_FAILED',
    );
    // Only the receive.
    expect(await movementCount(mine.id)).toBe(1);
    expect(await movementCount(theirs.id)).toBe(0);
  });

  it('a replayed Idempotency-Key answers the same movements and moves nothing twice', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    const branch = await openLocation(http, shop.owner);
    const product = await postProduct(http, shop.owner);
    const body = {
      fromLocationId: main,
      toLocationId: branch.id,
      items: [{ productId: product.id, quantity: 2 }],
    };
    const key = randomUUID();
    const first = await transfer(http, shop.owner, body, key).expect(201);
    const again = await transfer(http, shop.owner, body, key).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expectProblem(
      await transfer(http, shop.owner, { ...body, note: 'other' }, key),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(await movementCount(product.id)).toBe(2);
    expect(await levelAt(product.id, branch.id)).toBe(2);
  });

  it('20 concurrent crossing transfers A→B and B→A: no deadlock, every one 201, ledger exact', async () => {
    const shop = await createBusiness(deps);
    const a = await defaultLocationId(deps, shop.id);
    const b = (await openLocation(http, shop.owner)).id;
    const products = [await postProduct(http, shop.owner), await postProduct(http, shop.owner)];
    await adjust(
      http,
      shop.owner,
      products.flatMap((product) => [
        { productId: product.id, type: 'receive', quantity: 100 },
        { productId: product.id, type: 'receive', quantity: 100, locationId: b },
      ]),
    ).expect(201);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => {
        const forward = index % 2 === 0;
        // Items in opposite orders too: the writer must lock in id order whatever it is sent.
        const items = (forward ? products : [...products].reverse()).map((product) => ({
          productId: product.id,
          quantity: forward ? 3 : 1,
        }));
        return transfer(http, shop.owner, {
          fromLocationId: forward ? a : b,
          toLocationId: forward ? b : a,
          items,
        });
      }),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    for (const product of products) {
      // 10 × 3 went A→B, 10 × 1 came back.
      expect(await levelAt(product.id, a)).toBe(100 - 30 + 10);
      expect(await levelAt(product.id, b)).toBe(100 + 30 - 10);
      expect(await stockOf(deps, product.id)).toMatchObject({ stockQuantity: 200, ledger: 200 });
      expect(await movementCount(product.id)).toBe(2 + 40);
    }
  });

  it('assignment: a manager limited to A is refused at B (403) and reads only A', async () => {
    const shop = await createBusiness(deps);
    const a = await defaultLocationId(deps, shop.id);
    const b = (await openLocation(http, shop.owner)).id;
    const product = await postProduct(http, shop.owner);
    await adjust(http, shop.owner, [
      { productId: product.id, type: 'receive', quantity: 5, locationId: a },
      { productId: product.id, type: 'receive', quantity: 5, locationId: b },
    ]).expect(201);
    await assign(http, shop.owner, shop.manager, [a]).expect(200);

    expectProblem(
      await adjust(http, shop.manager, [
        { productId: product.id, type: 'receive', quantity: 1, locationId: b },
      ]),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await transfer(http, shop.manager, {
        fromLocationId: a,
        toLocationId: b,
        items: [{ productId: product.id, quantity: 1 }],
      }),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await http
        .get(`/inventory/movements?locationId=${b}`)
        .set('Authorization', shop.manager.auth),
      403,
      'FORBIDDEN',
    );
    // Omitted → the manager's only location.
    const defaulted = await adjust(http, shop.manager, [
      { productId: product.id, type: 'receive', quantity: 1 },
    ]).expect(201);
    expect(defaulted.body.movements[0].locationId).toBe(a);
    const mine = await http
      .get('/inventory/movements')
      .set('Authorization', shop.manager.auth)
      .expect(200);
    expect(new Set(mine.body.data.map((m: { locationId: string }) => m.locationId))).toEqual(
      new Set([a]),
    );
    // The owner sees every location.
    const all = await http.get('/inventory/movements').set('Authorization', shop.owner.auth);
    expect(all.body.data).toHaveLength(3);
    // Unassigned again (empty = every location): B works.
    await assign(http, shop.owner, shop.manager, []).expect(200);
    await adjust(http, shop.manager, [
      { productId: product.id, type: 'receive', quantity: 1, locationId: b },
    ]).expect(201);
  });

  it('ledger property per location: random adjustments and transfers keep every level = its movements = the model', async () => {
    const shop = await createBusiness(deps);
    const places = [
      await defaultLocationId(deps, shop.id),
      (await openLocation(http, shop.owner)).id,
    ];
    const catalog = [await postProduct(http, shop.owner), await postProduct(http, shop.owner)];
    const model = new Map<string, number>(); // `${product}/${location}` → thousandths
    const key = (product: number, place: number) => `${catalog[product]!.id}/${places[place]}`;
    const milli = fc.integer({ min: 1, max: 2_000_000 });
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('adjust' as const),
        product: fc.integer({ min: 0, max: 1 }),
        place: fc.integer({ min: 0, max: 1 }),
        type: fc.constantFrom('receive' as const, 'adjust' as const, 'count' as const),
        milli,
        negative: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('transfer' as const),
        product: fc.integer({ min: 0, max: 1 }),
        place: fc.integer({ min: 0, max: 1 }),
        milli,
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        for (const s of steps) {
          const product = catalog[s.product]!.id;
          if (s.kind === 'transfer') {
            const to = 1 - s.place;
            await transfer(http, shop.owner, {
              fromLocationId: places[s.place],
              toLocationId: places[to],
              items: [{ productId: product, quantity: s.milli / 1000 }],
            }).expect(201);
            model.set(key(s.product, s.place), (model.get(key(s.product, s.place)) ?? 0) - s.milli);
            model.set(key(s.product, to), (model.get(key(s.product, to)) ?? 0) + s.milli);
            continue;
          }
          const signed = s.type === 'adjust' && s.negative ? -s.milli : s.milli;
          await adjust(http, shop.owner, [
            {
              productId: product,
              type: s.type,
              quantity: signed / 1000,
              locationId: places[s.place],
            },
          ]).expect(201);
          const k = key(s.product, s.place);
          model.set(k, s.type === 'count' ? signed : (model.get(k) ?? 0) + signed);
        }
        for (const [index, product] of catalog.entries()) {
          const levels = await levelsOf(deps, product.id);
          for (const level of levels) {
            expect(Math.round((level.quantity ?? 0) * 1000)).toBe(
              Math.round((level.ledger ?? 0) * 1000),
            );
          }
          let total = 0;
          for (const place of [0, 1]) {
            const expected = model.get(key(index, place)) ?? 0;
            total += expected;
            expect(Math.round((await levelAt(product.id, places[place]!)) * 1000)).toBe(expected);
          }
          const stock = await stockOf(deps, product.id);
          expect(Math.round(stock.stockQuantity * 1000)).toBe(total);
          expect(stock.ledger).toBe(stock.stockQuantity);
        }
      }),
      { numRuns: 10 },
    );
  });
});
