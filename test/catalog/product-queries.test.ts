import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { postProduct } from '../helpers/catalog.js';

const { http, deps } = createTestApp();

describe('product queries: ETag, search, filters', () => {
  it('ETag on item and list: If-None-Match → 304 until something changes (stock included)', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const item = await http.get(`/products/${product.id}`).set('Authorization', shop.cashier.auth);
    expect(item.headers.etag).toMatch(/^"[\w-]+"$/);
    const notModified = await http
      .get(`/products/${product.id}`)
      .set('Authorization', shop.cashier.auth)
      .set('If-None-Match', item.headers.etag!);
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');

    const list = await http.get('/products').set('Authorization', shop.cashier.auth);
    const listEtag = list.headers.etag!;
    expect(
      (
        await http
          .get('/products')
          .set('Authorization', shop.cashier.auth)
          .set('If-None-Match', listEtag)
      ).status,
    ).toBe(304);

    await http
      .post('/inventory/adjustments')
      .set('Authorization', shop.owner.auth)
      .set('Idempotency-Key', `etag-${product.id}`)
      .send({ items: [{ productId: product.id, type: 'receive', quantity: 3 }] })
      .expect(201);
    const changed = await http
      .get(`/products/${product.id}`)
      .set('Authorization', shop.cashier.auth)
      .set('If-None-Match', item.headers.etag!);
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ stockQuantity: 3, version: 1 });
    const changedList = await http
      .get('/products')
      .set('Authorization', shop.cashier.auth)
      .set('If-None-Match', listEtag);
    expect(changedList.status).toBe(200);
  });

  it('q matches a case-insensitive substring of name, sku or barcode, and treats % and _ literally', async () => {
    const shop = await createBusiness(deps);
    const milk = await postProduct(http, shop.owner, { name: 'Fresh MILK 500ml' });
    const bread = await postProduct(http, shop.owner, { name: 'Bread', sku: 'BRD-milky' });
    const soap = await postProduct(http, shop.owner, { name: 'Soap', barcode: '5901234123457' });
    const percent = await postProduct(http, shop.owner, { name: '100% juice' });
    const search = async (q: string) => {
      const response = await http
        .get('/products')
        .query({ q })
        .set('Authorization', shop.cashier.auth)
        .expect(200);
      return (response.body as { data: { id: string }[] }).data.map((product) => product.id).sort();
    };
    expect(await search('milk')).toEqual([milk.id, bread.id].sort());
    expect(await search('4123')).toEqual([soap.id]);
    expect(await search('%')).toEqual([percent.id]);
    expect(await search('_')).toEqual([]);
    expect(await search('nothing-like-this')).toEqual([]);
  });

  it('q search can use the trigram GIN indexes on name, sku and barcode', async () => {
    const plan = await deps.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const result = await tx.execute<{ 'QUERY PLAN': string }>(
        sql`explain select id from products where name ilike '%milk%' or sku ilike '%milk%' or barcode ilike '%milk%'`,
      );
      return result.rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    for (const index of [
      'products_name_trgm_idx',
      'products_sku_trgm_idx',
      'products_barcode_trgm_idx',
    ]) {
      expect(plan).toContain(index);
    }
  });

  it('filters by categoryId', async () => {
    const shop = await createBusiness(deps);
    const drinks = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Drinks' });
    const soda = await postProduct(http, shop.owner, { categoryId: drinks.body.id });
    await postProduct(http, shop.owner);
    const response = await http
      .get('/products')
      .query({ categoryId: drinks.body.id })
      .set('Authorization', shop.owner.auth);
    expect(response.body.data.map((product: { id: string }) => product.id)).toEqual([soda.id]);
  });

  it('rejects bad list parameters with 400 (cursor, limit, updatedSince)', async () => {
    const shop = await createBusiness(deps);
    for (const query of [
      { cursor: 'not-a-cursor' },
      { limit: 'ten' },
      { updatedSince: 'yesterday' },
      { includeArchived: 'maybe' },
    ]) {
      const response = await http
        .get('/products')
        .query(query)
        .set('Authorization', shop.owner.auth);
      expect(response.status, JSON.stringify(query)).toBe(400);
    }
  });
});
