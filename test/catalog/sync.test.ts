import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { products, productStock } from '../../src/db/schema/index.js';
import type { Product } from '../../src/modules/catalog/catalog.schemas.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestUser } from '../helpers/factories.js';
import { adjust, postProduct } from '../helpers/catalog.js';

const { http, deps } = createTestApp();
// A second "API process" on its own pool: writes race across processes, as in production.
const second = createTestApp();

interface Page {
  data: Product[];
  nextCursor: string | null;
}

async function page(user: TestUser, query: Record<string, string | number>): Promise<Page> {
  const response = await http.get('/products').query(query).set('Authorization', user.auth);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as Page;
}

/** A device's delta sync: every page after `since`, returning the products and the new mark. */
async function syncSince(user: TestUser, since: string | undefined, limit = 50) {
  const seen: Product[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(user, {
      limit,
      ...(since ? { updatedSince: since } : { includeArchived: 'true' }),
      ...(cursor ? { cursor } : {}),
    });
    seen.push(...result.data);
    cursor = result.nextCursor ?? undefined;
  } while (cursor);
  const mark = seen.reduce(
    (latest, product) => (product.updatedAt > latest ? product.updatedAt : latest),
    since ?? '',
  );
  return { seen, mark: mark || undefined };
}

describe('delta sync (updatedSince)', () => {
  it('after a full sync, 3 edits and 1 archive come back as exactly those 4, then nothing', async () => {
    const shop = await createBusiness(deps);
    const catalog = [];
    for (let index = 0; index < 8; index++) catalog.push(await postProduct(http, shop.owner));
    const full = await syncSince(shop.cashier, undefined, 3);
    expect(full.seen.map((product) => product.id).sort()).toEqual(
      catalog.map((product) => product.id).sort(),
    );

    const [a, b, c, d] = catalog;
    for (const product of [a!, b!, c!]) {
      await http
        .patch(`/products/${product.id}`)
        .set('Authorization', shop.manager.auth)
        .send({ price: 999 })
        .expect(200);
    }
    await http.delete(`/products/${d!.id}`).set('Authorization', shop.manager.auth).expect(204);

    const delta = await syncSince(shop.cashier, full.mark);
    expect(delta.seen.map((product) => product.id).sort()).toEqual(
      [a!.id, b!.id, c!.id, d!.id].sort(),
    );
    expect(delta.seen.find((product) => product.id === d!.id)).toMatchObject({ archived: true });
    expect(delta.seen.filter((product) => product.id !== d!.id).every((p) => p.price === 999)).toBe(
      true,
    );

    const nothing = await syncSince(shop.cashier, delta.mark);
    expect(nothing.seen).toEqual([]);
  });

  it('stock changes reach devices through the delta without bumping version', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const mark = product.updatedAt;
    await adjust(http, shop.owner, [
      { productId: product.id, type: 'receive', quantity: 4 },
    ]).expect(201);
    const delta = await syncSince(shop.cashier, mark);
    expect(delta.seen).toEqual([
      expect.objectContaining({ id: product.id, stockQuantity: 4, version: 1 }),
    ]);
  });

  it('batch writes stamp each product uniquely: resuming from any page by updatedSince misses nothing', async () => {
    const shop = await createBusiness(deps);
    const category = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Batch' });
    const catalog: Product[] = [];
    for (let index = 0; index < 6; index++) {
      catalog.push(
        await postProduct(http, shop.owner, index < 3 ? { categoryId: category.body.id } : {}),
      );
    }
    const start = catalog.reduce((latest, p) => (p.updatedAt > latest ? p.updatedAt : latest), '');
    // One transaction changing four products, another detaching three.
    await adjust(
      http,
      shop.owner,
      catalog.slice(2).map((product) => ({ productId: product.id, type: 'receive', quantity: 1 })),
    ).expect(201);
    await http
      .delete(`/categories/${category.body.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(204);

    const rows = await deps.db.select().from(products).where(eq(products.businessId, shop.id));
    const stamps = rows.map((row) => row.updatedAt.getTime());
    expect(new Set(stamps).size).toBe(rows.length);

    // A device that fetches one product per request and keeps only "the largest updatedAt".
    const resumed: string[] = [];
    let mark = start;
    for (;;) {
      const { data } = await page(shop.cashier, { limit: 1, updatedSince: mark });
      if (data.length === 0) break;
      resumed.push(data[0]!.id);
      mark = data[0]!.updatedAt;
    }
    expect(resumed.sort()).toEqual(catalog.map((product) => product.id).sort());
  });

  it('pages never skip or repeat a product while products change between pages', async () => {
    const shop = await createBusiness(deps);
    const initial: Product[] = [];
    for (let index = 0; index < 21; index++) initial.push(await postProduct(http, shop.owner));

    const seen: Product[] = [];
    let cursor: string | undefined;
    let round = 0;
    do {
      const result = await page(shop.cashier, { limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...result.data);
      cursor = result.nextCursor ?? undefined;
      // Between pages: edit one product already returned and one not yet returned, add one.
      round += 1;
      if (round <= 4) {
        const returned = seen[round - 1]!;
        const pending = initial[initial.length - round]!;
        for (const target of [returned, pending]) {
          await http
            .patch(`/products/${target.id}`)
            .set('Authorization', shop.owner.auth)
            .send({ name: `Edited ${round} ${target.id.slice(-4)}` })
            .expect(200);
        }
        await postProduct(http, shop.owner);
      }
    } while (cursor);

    // The walk is strictly increasing in (updatedAt, id): no row can come back or be jumped.
    for (let index = 1; index < seen.length; index++) {
      const previous = seen[index - 1]!;
      const current = seen[index]!;
      expect(
        previous.updatedAt < current.updatedAt ||
          (previous.updatedAt === current.updatedAt && previous.id < current.id),
      ).toBe(true);
    }
    // No skip: every product that existed throughout, and every one added, was returned.
    const rows = await deps.db.select().from(products).where(eq(products.businessId, shop.id));
    expect(new Set(seen.map((product) => product.id))).toEqual(new Set(rows.map((row) => row.id)));
    // No repeat: an id comes back only as a newer version (it was edited and moved to the
    // end), and the last copy a device holds is the current one.
    const latest = new Map<string, Product>();
    for (const product of seen) {
      const earlier = latest.get(product.id);
      if (earlier) expect(product.version).toBeGreaterThan(earlier.version);
      latest.set(product.id, product);
    }
    for (const row of rows) expect(latest.get(row.id)?.version).toBe(row.version);
  });

  it('a device polling during concurrent writes from two processes misses nothing', async () => {
    const shop = await createBusiness(deps);
    const catalog: Product[] = [];
    for (let index = 0; index < 6; index++) catalog.push(await postProduct(http, shop.owner));
    const device = new Map<string, Product>();
    let mark: string | undefined = (await syncSince(shop.cashier, undefined)).mark;

    const state = { writing: true };
    const writes = Promise.all(
      Array.from({ length: 40 }, async (_, index) => {
        const agent = index % 2 === 0 ? http : second.http;
        const product = catalog[index % catalog.length]!;
        if (index % 3 === 0) {
          await agent
            .post('/inventory/adjustments')
            .set('Authorization', shop.manager.auth)
            .set('Idempotency-Key', `poll-${shop.id}-${index}`)
            .send({ items: [{ productId: product.id, type: 'adjust', quantity: 1 }] })
            .expect(201);
        } else {
          await agent
            .patch(`/products/${product.id}`)
            .set('Authorization', shop.manager.auth)
            .send({ price: 100 + index })
            .expect(200);
        }
      }),
    ).finally(() => {
      state.writing = false;
    });
    const poll = async () => {
      const { seen, mark: next } = await syncSince(shop.cashier, mark);
      for (const product of seen) device.set(product.id, product);
      mark = next ?? mark;
    };
    while (state.writing) await poll();
    await writes;
    await poll();

    const rows = await deps.db
      .select({
        id: products.id,
        version: products.version,
        price: products.price,
        stockQuantity: productStock.quantity,
        updatedAt: productStock.changedAt,
      })
      .from(products)
      .innerJoin(
        productStock,
        and(
          eq(productStock.businessId, products.businessId),
          eq(productStock.productId, products.id),
        ),
      )
      .where(eq(products.businessId, shop.id));
    for (const row of rows) {
      expect(device.get(row.id)).toMatchObject({
        version: row.version,
        price: row.price,
        stockQuantity: row.stockQuantity,
        updatedAt: row.updatedAt.toISOString(),
      });
    }
  });
});
