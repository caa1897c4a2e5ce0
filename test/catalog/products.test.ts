import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { productStock } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { postProduct } from '../helpers/catalog.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const { http, deps } = createTestApp();

describe('products CRUD', () => {
  it('creates a product: 201, Location, the Product shape, a product.created event', async () => {
    const shop = await createBusiness(deps);
    const response = await http.post('/products').set('Authorization', shop.manager.auth).send({
      name: 'Sugar 1kg',
      sku: 'SUG-1',
      barcode: '6001234567890',
      price: 21_000,
      cost: 18_000,
      taxRate: 1600,
      unit: 'kg',
      lowStockThreshold: 2.5,
    });
    expect(response.status).toBe(201);
    const product = response.body;
    expect(response.headers.location).toBe(`/products/${product.id}`);
    expect(product).toEqual({
      id: expect.any(String),
      name: 'Sugar 1kg',
      sku: 'SUG-1',
      barcode: '6001234567890',
      price: 21_000,
      cost: 18_000,
      taxRate: 1600,
      unit: 'kg',
      trackStock: true,
      taxType: 'B',
      stockQuantity: 0,
      stock: [],
      lowStockThreshold: 2.5,
      archived: false,
      version: 1,
      createdAt: expect.any(String),
      updatedAt: product.createdAt,
    });
    const events = await outboxRowsOf(deps, shop.id, { kind: 'event' });
    expect(events.map((event) => [event.type, event.payload])).toEqual([
      ['product.created', product],
    ]);
    const fetched = await http
      .get(`/products/${product.id}`)
      .set('Authorization', shop.cashier.auth);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(product);
  });

  it('rejects unknown fields, stockQuantity and version (strict schema) and bad values with 400', async () => {
    const shop = await createBusiness(deps);
    for (const body of [
      { name: 'X', price: 100, stockQuantity: 5 },
      { name: 'X', price: 100, version: 3 },
      { name: 'X', price: 100, businessId: shop.id },
      { name: 'X', price: 10.5 },
      { name: 'X', price: '100' },
      { name: 'X', price: -1 },
      { name: '', price: 1 },
      { name: 'X', price: 1, taxRate: 10_001 },
      { name: 'X', price: 1, lowStockThreshold: 1.2345 },
    ]) {
      const response = await http
        .post('/products')
        .set('Authorization', shop.owner.auth)
        .send(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    const patched = await postProduct(http, shop.owner);
    const response = await http
      .patch(`/products/${patched.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Renamed', stockQuantity: 50 });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ path: 'stockQuantity', code: 'unrecognized_keys' }),
    ]);
    const [row] = await deps.db
      .select()
      .from(productStock)
      .where(eq(productStock.businessId, shop.id));
    expect(row?.quantity).toBe(0);
  });

  it('PATCH bumps version, answers the whole product, clears fields with null, emits product.updated', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner, { sku: 'A-1', cost: 500 });
    const response = await http
      .patch(`/products/${product.id}`)
      .set('Authorization', shop.manager.auth)
      .send({ price: 12_345, cost: null });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: product.id, price: 12_345, sku: 'A-1', version: 2 });
    expect(response.body).not.toHaveProperty('cost');
    expect(Date.parse(response.body.updatedAt)).toBeGreaterThan(Date.parse(product.updatedAt));
    const events = await outboxRowsOf(deps, shop.id, { kind: 'event', types: ['product.updated'] });
    expect(events.map((event) => event.payload)).toEqual([response.body]);
  });

  it('If-Match: the current version succeeds, a stale one is 412 and changes nothing', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const first = await http
      .patch(`/products/${product.id}`)
      .set('Authorization', shop.owner.auth)
      .set('If-Match', '"1"')
      .send({ name: 'First edit' });
    expect(first.status).toBe(200);
    expect(first.body.version).toBe(2);
    const stale = await http
      .patch(`/products/${product.id}`)
      .set('Authorization', shop.owner.auth)
      .set('If-Match', '"1"')
      .send({ name: 'Lost edit' });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('PRECONDITION_FAILED');
    const current = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(current.body).toMatchObject({ name: 'First edit', version: 2 });
    const malformed = await http
      .patch(`/products/${product.id}`)
      .set('Authorization', shop.owner.auth)
      .set('If-Match', 'yesterday')
      .send({ name: 'x' });
    expect(malformed.status).toBe(400);
  });

  it('two concurrent PATCHes on the same version: exactly one wins, the other is 412', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const responses = await Promise.all(
      ['Left', 'Right', 'Third', 'Fourth'].map((name) =>
        http
          .patch(`/products/${product.id}`)
          .set('Authorization', shop.owner.auth)
          .set('If-Match', '"1"')
          .send({ name }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([200, 412, 412, 412]);
    const winner = responses.find((response) => response.status === 200)!;
    const current = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(current.body).toMatchObject({ name: winner.body.name, version: 2 });
  });

  it('concurrent PATCHes without If-Match all apply: version counts every edit', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        http
          .patch(`/products/${product.id}`)
          .set('Authorization', shop.owner.auth)
          .send({ price: 1000 + index }),
      ),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(
      new Set(responses.map((response) => (response.body as { version: number }).version)).size,
    ).toBe(10);
    const current = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(current.body.version).toBe(11);
  });

  it('DELETE archives (204, product.archived), keeps the product readable, and is idempotent', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner, { sku: 'GONE-1' });
    const response = await http
      .delete(`/products/${product.id}`)
      .set('Authorization', shop.owner.auth);
    expect(response.status).toBe(204);
    const again = await http
      .delete(`/products/${product.id}`)
      .set('Authorization', shop.owner.auth);
    expect(again.status).toBe(204);
    const fetched = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(fetched.body).toMatchObject({ archived: true, version: 2 });
    const events = await outboxRowsOf(deps, shop.id, {
      kind: 'event',
      types: ['product.archived'],
    });
    expect(events.map((event) => event.payload)).toEqual([fetched.body]);
    const list = await http.get('/products').set('Authorization', shop.owner.auth);
    expect(list.body.data).toEqual([]);
    const withArchived = await http
      .get('/products?includeArchived=true')
      .set('Authorization', shop.owner.auth);
    expect(withArchived.body.data.map((item: { id: string }) => item.id)).toEqual([product.id]);
  });

  it('sku and barcode clash among non-archived products → 409 naming the field; archiving frees them', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const first = await postProduct(http, shop.owner, { sku: 'DUP', barcode: '111' });
    const skuClash = await http
      .post('/products')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'B', price: 1, sku: 'DUP' });
    expect(skuClash.status).toBe(409);
    expect(skuClash.body.code).toBe('CONFLICT');
    expect(skuClash.body.errors).toEqual([
      expect.objectContaining({ path: 'sku', code: 'unique' }),
    ]);
    const second = await postProduct(http, shop.owner, { sku: 'OTHER' });
    const barcodeClash = await http
      .patch(`/products/${second.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ barcode: '111' });
    expect(barcodeClash.status).toBe(409);
    expect(barcodeClash.body.errors).toEqual([expect.objectContaining({ path: 'barcode' })]);
    // Another business may use the same codes.
    await postProduct(http, other.owner, { sku: 'DUP', barcode: '111' });
    // Archiving frees them for a replacement product.
    await http.delete(`/products/${first.id}`).set('Authorization', shop.owner.auth).expect(204);
    await postProduct(http, shop.owner, { sku: 'DUP', barcode: '111' });
  });

  it('categoryId of another business → 422 naming categoryId', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const foreign = await http
      .post('/categories')
      .set('Authorization', other.owner.auth)
      .send({ name: 'Theirs' });
    const response = await http
      .post('/products')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'X', price: 1, categoryId: foreign.body.id });
    expect(response.status).toBe(422);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'categoryId' })]);
  });

  it('every product route answers 401, 403 to cashiers for writes, 404 for another business', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const businesses = { owner: shop, other };
    const all = ['owner', 'manager', 'cashier'] as const;
    const writers = ['owner', 'manager'] as const;
    await expectRouteGuards(http, businesses, {
      method: 'get',
      path: '/products',
      allowed: all,
      namesResource: false,
    });
    await expectRouteGuards(http, businesses, {
      method: 'get',
      path: `/products/${product.id}`,
      allowed: all,
      namesResource: true,
    });
    await expectRouteGuards(http, businesses, {
      method: 'post',
      path: '/products',
      body: { name: 'Guarded', price: 1 },
      allowed: writers,
      namesResource: false,
    });
    await expectRouteGuards(http, businesses, {
      method: 'patch',
      path: `/products/${product.id}`,
      body: { name: 'Renamed' },
      allowed: writers,
      namesResource: true,
    });
    await expectRouteGuards(http, businesses, {
      method: 'delete',
      path: `/products/${product.id}`,
      allowed: writers,
      namesResource: true,
    });
    // Nothing the guards sent changed the product.
    const current = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(current.body).toMatchObject({ name: product.name, version: 1, archived: false });
  });

  it('writes need an active subscription (402); reads do not', async () => {
    const shop = await createBusiness(deps, {
      currentPeriodEnd: new Date(Date.now() - 30 * 86_400_000),
    });
    const write = await http
      .post('/products')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'X', price: 1 });
    expect(write.status).toBe(402);
    expect(write.body.code).toBe('SUBSCRIPTION_INACTIVE');
    expect((await http.get('/products').set('Authorization', shop.owner.auth)).status).toBe(200);
  });
});
