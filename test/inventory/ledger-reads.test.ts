import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { idempotencyKeys } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { adjust, postProduct } from '../helpers/catalog.js';

const { http, deps } = createTestApp();

describe('GET /inventory/movements', () => {
  it('lists the ledger newest first, pages without gaps, filters by product', async () => {
    const shop = await createBusiness(deps);
    const a = await postProduct(http, shop.owner);
    const b = await postProduct(http, shop.owner);
    const made: string[] = [];
    for (let index = 1; index <= 5; index++) {
      const response = await adjust(http, shop.owner, [
        { productId: index % 2 === 0 ? b.id : a.id, type: 'receive', quantity: index },
      ]).expect(201);
      made.push((response.body as { movements: { id: string }[] }).movements[0]!.id);
    }
    const first = await http
      .get('/inventory/movements?limit=2')
      .set('Authorization', shop.manager.auth);
    expect(first.status).toBe(200);
    const ids = first.body.data.map((movement: { id: string }) => movement.id);
    let cursor = first.body.nextCursor as string | null;
    while (cursor) {
      const next = await http
        .get('/inventory/movements')
        .query({ limit: 2, cursor })
        .set('Authorization', shop.manager.auth);
      ids.push(...next.body.data.map((movement: { id: string }) => movement.id));
      cursor = next.body.nextCursor;
    }
    expect(ids).toEqual([...made].reverse());

    const onlyB = await http
      .get('/inventory/movements')
      .query({ productId: b.id })
      .set('Authorization', shop.owner.auth);
    expect(onlyB.body.data.map((movement: { delta: number }) => movement.delta)).toEqual([4, 2]);
    expect(onlyB.body.nextCursor).toBeNull();
  });

  it('a productId of another business → 404; a bad cursor → 400', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const theirs = await postProduct(http, other.owner);
    const foreign = await http
      .get('/inventory/movements')
      .query({ productId: theirs.id })
      .set('Authorization', shop.owner.auth);
    expect(foreign.status).toBe(404);
    const bad = await http
      .get('/inventory/movements')
      .query({ cursor: Buffer.from('["x"]').toString('base64url') })
      .set('Authorization', shop.owner.auth);
    expect(bad.status).toBe(400);
  });
});

describe('GET /inventory/low-stock', () => {
  it('lists tracked, non-archived products at or under their threshold', async () => {
    const shop = await createBusiness(deps);
    const at = await postProduct(http, shop.owner, { lowStockThreshold: 3 });
    const under = await postProduct(http, shop.owner, { lowStockThreshold: 10 });
    const above = await postProduct(http, shop.owner, { lowStockThreshold: 1 });
    const untracked = await postProduct(http, shop.owner, {
      lowStockThreshold: 5,
      trackStock: false,
    });
    const noThreshold = await postProduct(http, shop.owner);
    const archived = await postProduct(http, shop.owner, { lowStockThreshold: 5 });
    await adjust(http, shop.owner, [
      { productId: at.id, type: 'receive', quantity: 3 },
      { productId: under.id, type: 'receive', quantity: 2.5 },
      { productId: above.id, type: 'receive', quantity: 4 },
    ]).expect(201);
    await http.delete(`/products/${archived.id}`).set('Authorization', shop.owner.auth).expect(204);

    const response = await http.get('/inventory/low-stock').set('Authorization', shop.manager.auth);
    expect(response.status).toBe(200);
    const ids = response.body.data.map((product: { id: string }) => product.id).sort();
    expect(ids).toEqual([at.id, under.id].sort());
    expect(ids).not.toContain(untracked.id);
    expect(ids).not.toContain(noThreshold.id);
    expect(response.body.data[0]).toHaveProperty('stockQuantity');

    const paged = await http
      .get('/inventory/low-stock?limit=1')
      .set('Authorization', shop.owner.auth);
    expect(paged.body.data).toHaveLength(1);
    const rest = await http
      .get('/inventory/low-stock')
      .query({ limit: 1, cursor: paged.body.nextCursor })
      .set('Authorization', shop.owner.auth);
    expect([...paged.body.data, ...rest.body.data].map((p: { id: string }) => p.id).sort()).toEqual(
      [at.id, under.id].sort(),
    );
    expect(rest.body.nextCursor).toBeNull();
  });
});

describe('inventory guards and idempotency details', () => {
  it('every inventory route: 401, 403 for cashiers, 404 for another business', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const businesses = { owner: shop, other };
    await expectRouteGuards(http, businesses, {
      method: 'post',
      path: '/inventory/adjustments',
      headers: { 'Idempotency-Key': randomUUID() },
      body: { items: [{ productId: product.id, type: 'receive', quantity: 1 }] },
      allowed: ['owner', 'manager'],
      namesResource: true,
    });
    await expectRouteGuards(http, businesses, {
      method: 'get',
      path: `/inventory/movements?productId=${product.id}`,
      allowed: ['owner', 'manager'],
      namesResource: true,
    });
    await expectRouteGuards(http, businesses, {
      method: 'get',
      path: '/inventory/low-stock',
      allowed: ['owner', 'manager'],
      namesResource: false,
    });
    const current = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(current.body.stockQuantity).toBe(0);
  });

  it('adjustments need an active subscription (402)', async () => {
    const shop = await createBusiness(deps, {
      currentPeriodEnd: new Date(Date.now() - 30 * 86_400_000),
    });
    const response = await http
      .post('/inventory/adjustments')
      .set('Authorization', shop.owner.auth)
      .set('Idempotency-Key', randomUUID())
      .send({ items: [{ productId: randomUUID(), type: 'receive', quantity: 1 }] });
    expect(response.status).toBe(402);
  });

  it('a key used on another route is a reuse (422), and stored keys are kept at least 7 days', async () => {
    const shop = await createBusiness(deps);
    const key = randomUUID();
    const created = await http
      .post('/products')
      .set('Authorization', shop.owner.auth)
      .set('Idempotency-Key', key)
      .send({ name: 'Keyed', price: 100 });
    expect(created.status).toBe(201);
    const replay = await http
      .post('/products')
      .set('Authorization', shop.owner.auth)
      .set('Idempotency-Key', key)
      .send({ price: 100, name: 'Keyed' });
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers.location).toBe(created.headers.location);
    expect(replay.body).toEqual(created.body);

    const elsewhere = await adjust(
      http,
      shop.owner,
      [{ productId: created.body.id, type: 'receive', quantity: 1 }],
      key,
    );
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.code).toBe('IDEMPOTENCY_KEY_REUSED');

    const [row] = await deps.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.businessId, shop.id), eq(idempotencyKeys.key, key)));
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBeGreaterThanOrEqual(
      7 * 86_400_000,
    );
  });
});
