import { and, eq, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { products, productStock } from '../../src/db/schema/index.js';
import { encodeCursor } from '../../src/lib/cursor.js';
import { newId } from '../../src/lib/ids.js';
import * as repo from '../../src/modules/catalog/catalog.repo.js';
import { setProductImage, toProduct } from '../../src/modules/catalog/catalog.service.js';
import {
  findProductPage,
  productPageSql,
  type ProductPageParams,
} from '../../src/modules/catalog/product-page.statement.js';
import { fileUrl } from '../../src/storage/storage-url.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { adjust, postProduct } from '../helpers/catalog.js';

const { http, deps } = createTestApp();

/** What GET /products answered before PostgreSQL rendered the page: toProduct + JSON.stringify. */
async function expectedPage(businessId: string, ids: string[], nextCursor: string | null) {
  const rows = await Promise.all(ids.map((id) => repo.findProduct(deps.db, businessId, id)));
  return JSON.stringify({ data: rows.map((row) => toProduct(deps.config, row!)), nextCursor });
}

const pageParams = (businessId: string): ProductPageParams => ({
  businessId,
  fromUpdatedAt: '-infinity',
  fromId: '00000000-0000-0000-0000-000000000000',
  includeArchived: true,
  categoryId: null,
  limit: 50,
  imageUrlPrefix: fileUrl(deps.config, ''),
});

describe('GET /products rendered by PostgreSQL', () => {
  it('is byte-for-byte JSON.stringify of toProduct, every optional field set and unset, cursor included', async () => {
    const shop = await createBusiness(deps);
    const drinks = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Drinks' })
      .expect(201);
    const bare = await postProduct(http, shop.owner, { name: 'Bare' });
    const full = await postProduct(http, shop.owner, {
      name: 'Full "quoted" \\ back\tslash\nline é 😀 \u2028',
      sku: 'SKU/1',
      barcode: '5901234123457',
      description: 'Control \u0001 and \u001f and DEL \u007f',
      categoryId: drinks.body.id,
      price: 123_456,
      cost: 0,
      taxRate: 1600,
      unit: 'kg',
      trackStock: false,
      lowStockThreshold: 2.5,
    });
    await adjust(http, shop.owner, [
      { productId: full.id, type: 'receive', quantity: 1.125 },
    ]).expect(201);
    await setProductImage(deps, shop.owner.caller, full.id, 'images/ab.png');
    const archived = await postProduct(http, shop.owner, { name: 'Gone', sku: 'GONE' });
    await http.delete(`/products/${archived.id}`).set('Authorization', shop.owner.auth).expect(204);
    const inOrder = [bare.id, full.id, archived.id]; // (updatedAt, id): the order of the last writes

    const all = await http
      .get('/products?includeArchived=true')
      .set('Authorization', shop.cashier.auth)
      .expect(200);
    expect(all.headers['content-type']).toMatch(/^application\/json/);
    expect(all.text).toBe(await expectedPage(shop.id, inOrder, null));
    expect(all.body.data[1]).toMatchObject({
      stockQuantity: 1.125,
      lowStockThreshold: 2.5,
      cost: 0,
    });

    const active = await http.get('/products').set('Authorization', shop.cashier.auth).expect(200);
    expect(active.text).toBe(await expectedPage(shop.id, [bare.id, full.id], null));

    const first = await http
      .get('/products?limit=1&includeArchived=true')
      .set('Authorization', shop.cashier.auth)
      .expect(200);
    const bareRow = await repo.findProduct(deps.db, shop.id, bare.id);
    const cursor = encodeCursor([bareRow!.updatedAt.toISOString(), bare.id]);
    expect(first.text).toBe(await expectedPage(shop.id, [bare.id], cursor));
    const rest = await http
      .get('/products')
      .query({ limit: 5, includeArchived: true, cursor })
      .set('Authorization', shop.cashier.auth)
      .expect(200);
    expect(rest.text).toBe(await expectedPage(shop.id, [full.id, archived.id], null));

    const search = await http
      .get('/products')
      .query({ q: 'quoted' })
      .set('Authorization', shop.cashier.auth)
      .expect(200);
    expect(search.text).toBe(await expectedPage(shop.id, [full.id], null));
    const empty = await http
      .get('/products')
      .query({
        categoryId: drinks.body.id,
        updatedSince: new Date(Date.now() + 60_000).toISOString(),
      })
      .set('Authorization', shop.cashier.auth)
      .expect(200);
    expect(empty.text).toBe('{"data":[],"nextCursor":null}');
  });

  it('renders any stored product exactly as toProduct does (property)', async () => {
    const shop = await createBusiness(deps);
    const category = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Any' })
      .expect(201);
    // Strings PostgreSQL can store (no NUL, no lone surrogate), biased towards what JSON escapes.
    const text = fc
      .oneof(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.string({
          unit: fc.constantFrom(
            '"',
            '\\',
            '/',
            '\n',
            '\r',
            '\t',
            '\b',
            '\f',
            '\u0001',
            '\u001f',
            '\u007f',
            '\u2028',
            'é',
            '😀',
            'a',
          ),
          maxLength: 12,
        }),
      )
      .filter((value) => !value.includes('\u0000') && !/[\uD800-\uDFFF]/u.test(value));
    const quantity = (min: number) =>
      fc.integer({ min, max: 99_999_999_999_999 }).map((thousandths) => thousandths / 1000);
    const instant = fc.date({
      min: new Date('1970-01-01T00:00:00.000Z'),
      max: new Date('2199-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    });
    const product = fc.record({
      name: text,
      sku: fc.option(text, { nil: null }),
      barcode: fc.option(text, { nil: null }),
      description: fc.option(text, { nil: null }),
      categoryId: fc.option(fc.constant(category.body.id as string), { nil: null }),
      price: fc.integer({ min: 0, max: 1_000_000_000 }),
      cost: fc.option(fc.integer({ min: 0, max: 1_000_000_000 }), { nil: null }),
      taxRate: fc.integer({ min: 0, max: 10_000 }),
      unit: text,
      trackStock: fc.boolean(),
      stockQuantity: quantity(-99_999_999_999_999),
      lowStockThreshold: fc.option(quantity(0), { nil: null }),
      imageKey: fc.option(fc.stringMatching(/^images\/[0-9a-f]{1,64}\.(png|jpg|webp)$/), {
        nil: null,
      }),
      archived: fc.boolean(),
      version: fc.integer({ min: 1, max: 2_000_000_000 }),
      createdAt: instant,
      updatedAt: instant,
    });

    await fc.assert(
      fc.asyncProperty(product, async ({ stockQuantity, updatedAt, ...values }) => {
        const id = newId();
        await deps.db.insert(products).values({ id, businessId: shop.id, ...values });
        // The total and the presented updatedAt live in the product's product_stock row.
        const ofProduct = and(eq(productStock.businessId, shop.id), eq(productStock.productId, id));
        await deps.db
          .update(productStock)
          .set({ quantity: stockQuantity, changedAt: updatedAt })
          .where(ofProduct);
        try {
          const page = await findProductPage(deps.db, pageParams(shop.id));
          const row = await repo.findProduct(deps.db, shop.id, id);
          expect(page.items).toBe(JSON.stringify(toProduct(deps.config, row!)));
          expect(page.more).toBe(false);
        } finally {
          await deps.db.delete(productStock).where(ofProduct);
          await deps.db.delete(products).where(eq(products.id, id));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('one statement text for every page shape; its generic plan is a keyset scan of product_stock (business_id, changed_at, product_id)', async () => {
    const shop = await createBusiness(deps);

    const query = new PgDialect({ casing: 'snake_case' }).sqlToQuery(
      productPageSql((key) => sql.placeholder(key)),
    );
    const literal = (value: string | number | boolean | null) =>
      value === null ? 'null' : `'${String(value).replaceAll("'", "''")}'`;
    const shapes: Partial<ProductPageParams>[] = [
      {}, // the first page
      { fromUpdatedAt: new Date().toISOString(), fromId: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }, // delta
      { fromUpdatedAt: new Date().toISOString(), fromId: newId(), includeArchived: false }, // cursor
      { categoryId: newId() },
    ];
    const plans = await deps.db.transaction(async (tx) => {
      await tx.execute(sql`set local plan_cache_mode = force_generic_plan`);
      // Whether an ordered index scan beats bitmap + sort depends on the statistics of this
      // shared test table; with the alternatives discouraged, a statement shape the index
      // cannot serve (keyset not an index condition, or an order it does not give) still
      // shows up as a Seq Scan or a Sort.
      await tx.execute(sql`set local enable_seqscan = off`);
      await tx.execute(sql`set local enable_bitmapscan = off`);
      await tx.execute(sql`set local enable_sort = off`);
      await tx.execute(sql.raw(`prepare product_page_plan_test as ${query.sql}`));
      const result: string[] = [];
      for (const shape of shapes) {
        const params = { ...pageParams(shop.id), ...shape };
        const values = query.params.map((placeholder) =>
          literal(
            params[(placeholder as { name: string }).name] as string | number | boolean | null,
          ),
        );
        const explained = await tx.execute<{ 'QUERY PLAN': string }>(
          sql.raw(`explain execute product_page_plan_test(${values.join(', ')})`),
        );
        result.push(explained.rows.map((row) => row['QUERY PLAN']).join('\n'));
      }
      await tx.execute(sql`deallocate product_page_plan_test`);
      return result;
    });
    for (const plan of plans) {
      expect(plan).toMatch(/Index Scan using product_stock_business_changed_idx/);
      expect(plan).toMatch(
        /Index Cond: \(\(business_id = \$\d+\) AND \(ROW\(changed_at, product_id\) > ROW\(/,
      );
      // Each row's product by key, never a scan of the business's products.
      expect(plan).toMatch(
        /Index Scan using products_\w+ on products\s[\s\S]*Index Cond: \(\(id = ps\.product_id\)/,
      );
      expect(plan).not.toMatch(/Seq Scan|Sort|Materialize/);
    }
  });

  it('updatedSince outside years 1–9999 and cursors PostgreSQL cannot read are answered, never a 500', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const list = (query: Record<string, string>) =>
      http.get('/products').query(query).set('Authorization', shop.cashier.auth);

    const everything = await list({ updatedSince: '0000-01-01T00:00:00Z' });
    expect(everything.status).toBe(200);
    expect(everything.body.data.map((item: { id: string }) => item.id)).toEqual([product.id]);
    const nothing = await list({ updatedSince: '9999-12-31T23:59:59-14:00' });
    expect(nothing.status).toBe(200);
    expect(nothing.body).toEqual({ data: [], nextCursor: null });

    for (const instant of [
      '0000-01-01T00:00:00.000Z',
      '-000001-01-01T00:00:00.000Z',
      '2026-01-01',
    ]) {
      const response = await list({ cursor: encodeCursor([instant, product.id]) });
      expect(response.status, instant).toBe(400);
      expect(response.body.errors).toEqual([
        expect.objectContaining({ path: 'query.cursor', code: 'invalid_cursor' }),
      ]);
    }
  });
});
