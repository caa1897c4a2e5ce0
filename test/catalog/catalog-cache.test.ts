import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb, createPool } from '../../src/db/client.js';
import { products } from '../../src/db/schema/index.js';
import type { AppDeps } from '../../src/deps.js';
import {
  beginCatalogWrite,
  listProductsEntity,
  listProductsJson,
} from '../../src/modules/catalog/catalog.service.js';
import { bumpCatalogVersions } from '../../src/modules/catalog/catalog-version.js';
import { createTestApp } from '../helpers/app.js';
import { adjust, postProduct } from '../helpers/catalog.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { openLocation, transfer } from '../helpers/locations.js';
import { postReturn, returnBody, sell } from '../helpers/returns.js';
import { insertProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp({
  env: {
    STORAGE_LOCAL_DIR: mkdtempSync(path.join(os.tmpdir(), 'bapi-cache-files-')),
    UPLOAD_TMP_DIR: mkdtempSync(path.join(os.tmpdir(), 'bapi-cache-spool-')),
  },
});

/** A real 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const QUERY = { limit: '50', includeArchived: 'true' };

function getPage(shop: TestBusiness, etag?: string) {
  const request = http.get('/products').query(QUERY).set('Authorization', shop.cashier.auth);
  return etag ? request.set('If-None-Match', etag) : request;
}

/** The page as PostgreSQL renders it now, bypassing the cache. */
const uncached = (shop: TestBusiness) =>
  listProductsJson(deps, shop.cashier.caller, { limit: 50, includeArchived: true });

/** Caches the page and returns its ETag and text. */
async function warm(shop: TestBusiness) {
  const first = await getPage(shop).expect(200);
  // Served twice the same way: the second answer comes from the cache.
  const second = await getPage(shop).expect(200);
  expect(second.text).toBe(first.text);
  return { etag: first.headers.etag as string, text: first.text };
}

/** After a write was answered: the old ETag gets the new page, equal to PostgreSQL's. */
async function expectFresh(shop: TestBusiness, before: { etag: string; text: string }) {
  const after = await getPage(shop, before.etag);
  expect(after.status).toBe(200);
  expect(after.text).not.toBe(before.text);
  expect(after.text).toBe(await uncached(shop));
  expect(after.headers.etag).not.toBe(before.etag);
  // And that page is cached in turn: its ETag gets 304.
  await getPage(shop, after.headers.etag as string).expect(304);
}

/** deps whose PostgreSQL is a closed port: anything that reaches the database fails. */
function withoutDatabase(): AppDeps {
  const pool = createPool({ url: 'postgres://postgres@127.0.0.1:1/none', poolMax: 1 });
  return { ...deps, pool, db: createDb(pool) };
}

async function stockedProduct(shop: TestBusiness, overrides = {}): Promise<TestProduct> {
  return insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 100, ...overrides });
}

describe('catalog pages cached in Redis', () => {
  it('serves a page and a 304 from the cache, without PostgreSQL; only a bump shows a row changed behind its back', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const cached = await warm(shop);
    const etag = cached.etag;

    // Neither the 304 nor the cached page reads PostgreSQL.
    const offline = withoutDatabase();
    try {
      const query = { limit: 50, includeArchived: true };
      const notModified = await listProductsEntity(offline, shop.cashier.caller, query, etag);
      expect(notModified).toEqual({ etag });
      const page = await listProductsEntity(offline, shop.cashier.caller, query, '');
      expect(page.body?.toString()).toBe(cached.text);
    } finally {
      await offline.pool.end();
    }

    // A row changed directly in PostgreSQL (no service, no bump) is not seen: this is why
    // every write must go through deps.db.transaction / withCatalogBump.
    await deps.db
      .update(products)
      .set({ name: 'Changed behind the cache' })
      .where(eq(products.id, product.id));
    await getPage(shop, etag).expect(304);
    expect((await getPage(shop).expect(200)).text).toBe(cached.text);

    await bumpCatalogVersions(deps, [shop.id]);
    const fresh = await getPage(shop, etag).expect(200);
    expect(fresh.body.data[0].name).toBe('Changed behind the cache');
  });

  it('keys pages by everything that changes them (limit, filters, q, cursor)', async () => {
    const shop = await createBusiness(deps);
    const category = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Drinks' })
      .expect(201);
    await postProduct(http, shop.owner, { name: 'Soda', categoryId: category.body.id });
    await postProduct(http, shop.owner, { name: 'Bread' });
    const archived = await postProduct(http, shop.owner, { name: 'Old soda' });
    await http.delete(`/products/${archived.id}`).set('Authorization', shop.owner.auth).expect(204);
    const first = await http
      .get('/products?limit=1')
      .set('Authorization', shop.cashier.auth)
      .expect(200);
    const queries = [
      { limit: 50 },
      { limit: 1 },
      { limit: 1, cursor: first.body.nextCursor as string },
      { limit: 50, includeArchived: true },
      { limit: 50, categoryId: category.body.id as string },
      { limit: 50, q: 'soda' },
      { limit: 50, q: 'soda', includeArchived: true },
      { limit: 50, updatedSince: '2000-01-01T00:00:00Z' },
    ];
    // Twice: the second round is served from the cache, each page still its own.
    for (let round = 0; round < 2; round++) {
      for (const query of queries) {
        const response = await http
          .get('/products')
          .query(query)
          .set('Authorization', shop.cashier.auth)
          .expect(200);
        expect(response.text, JSON.stringify(query)).toBe(
          await listProductsJson(deps, shop.cashier.caller, query),
        );
      }
    }
  });

  it('GET /products/{id} is cached and invalidated the same way', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const path = `/products/${product.id}`;
    const first = await http.get(path).set('Authorization', shop.cashier.auth).expect(200);
    const etag = first.headers.etag as string;
    await http
      .get(path)
      .set('Authorization', shop.cashier.auth)
      .set('If-None-Match', etag)
      .expect(304);
    await http
      .patch(path)
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Renamed' })
      .expect(200);
    const after = await http
      .get(path)
      .set('Authorization', shop.cashier.auth)
      .set('If-None-Match', etag)
      .expect(200);
    expect(after.body.name).toBe('Renamed');
    await http
      .get(`/products/${crypto.randomUUID()}`)
      .set('Authorization', shop.cashier.auth)
      .expect(404);
  });

  it('a catalog write in a transaction not opened by deps.db.transaction throws instead of leaving pages stale', async () => {
    const shop = await createBusiness(deps);
    const bare = createDb(deps.pool);
    await expect(
      bare.transaction((tx) => beginCatalogWrite(tx, shop.id).then(() => undefined)),
    ).rejects.toThrow(/not opened by deps\.db\.transaction/);
  });
});

type Writer = (shop: TestBusiness, product: TestProduct) => Promise<unknown>;

/** Each kind of write that changes a page; `prepare` runs before the page is cached. */
const WRITERS: [name: string, write: Writer, prepare?: Writer][] = [
  [
    'product update (PATCH)',
    (shop, product) =>
      http
        .patch(`/products/${product.id}`)
        .set('Authorization', shop.owner.auth)
        .send({ price: 12_345 })
        .expect(200),
  ],
  [
    'archive (DELETE)',
    (shop, product) =>
      http.delete(`/products/${product.id}`).set('Authorization', shop.owner.auth).expect(204),
  ],
  ['create (POST /products)', (shop) => postProduct(http, shop.owner)],
  [
    'image upload',
    (shop, product) =>
      http
        .post(`/products/${product.id}/image`)
        .set('Authorization', shop.owner.auth)
        .attach('file', PNG, { filename: 'p.png', contentType: 'image/png' })
        .expect(200),
  ],
  [
    'category change (PATCH categoryId)',
    async (shop, product) => {
      const category = await http
        .post('/categories')
        .set('Authorization', shop.owner.auth)
        .send({ name: `C ${product.id.slice(-6)}` })
        .expect(201);
      await http
        .patch(`/products/${product.id}`)
        .set('Authorization', shop.owner.auth)
        .send({ categoryId: category.body.id })
        .expect(200);
    },
  ],
  [
    'category delete (detaches its products)',
    async (shop) => {
      const [category] = (
        await http.get('/categories').set('Authorization', shop.owner.auth).expect(200)
      ).body.data as { id: string }[];
      await http
        .delete(`/categories/${category!.id}`)
        .set('Authorization', shop.owner.auth)
        .expect(204);
    },
    async (shop, product) => {
      const category = await http
        .post('/categories')
        .set('Authorization', shop.owner.auth)
        .send({ name: 'Doomed' })
        .expect(201);
      await http
        .patch(`/products/${product.id}`)
        .set('Authorization', shop.owner.auth)
        .send({ categoryId: category.body.id })
        .expect(200);
    },
  ],
  [
    'stock adjustment',
    (shop, product) =>
      adjust(http, shop.owner, [{ productId: product.id, type: 'receive', quantity: 5 }]).expect(
        201,
      ),
  ],
  [
    'transfer',
    async (shop, product) => {
      const branch = await openLocation(http, shop.owner);
      await transfer(http, shop.owner, {
        fromLocationId: (await mainLocation(shop)).id,
        toLocationId: branch.id,
        items: [{ productId: product.id, quantity: 3 }],
      }).expect(201);
    },
  ],
  ['sale (POST /sales)', (shop, product) => sell(http, shop.cashier, [{ product }])],
  [
    'sales batch (POST /sales/sync)',
    (shop, product) =>
      http
        .post('/sales/sync')
        .set('Authorization', shop.cashier.auth)
        .send({ sales: [saleBody([{ product }]), saleBody([{ product, quantity: 2 }])] })
        .expect(200),
  ],
  [
    'void',
    async (shop) => {
      const sale = await lastSale(shop);
      await http
        .post(`/sales/${sale}/void`)
        .set('Authorization', shop.manager.auth)
        .send({ reason: 'wrong item' })
        .expect(200);
    },
    (shop, product) => sell(http, shop.cashier, [{ product, quantity: 2 }]),
  ],
  [
    'return with restock',
    async (shop) => {
      const sale = (
        await http
          .get(`/sales/${await lastSale(shop)}`)
          .set('Authorization', shop.owner.auth)
          .expect(200)
      ).body as { id: string; lines: { id: string; total: number }[] };
      const line = sale.lines[0]!;
      await postReturn(
        http,
        shop.owner,
        returnBody(sale, [{ saleLineId: line.id, quantity: 1 }], line.total),
      ).expect(201);
    },
    (shop, product) => sell(http, shop.cashier, [{ product }]),
  ],
];

async function mainLocation(shop: TestBusiness) {
  const response = await http.get('/locations').set('Authorization', shop.owner.auth).expect(200);
  return (response.body.data as { id: string; isDefault: boolean }[]).find((l) => l.isDefault)!;
}

async function lastSale(shop: TestBusiness): Promise<string> {
  const result = await deps.db.execute<{ id: string }>(
    sql`select id from sales where business_id = ${shop.id} order by number desc limit 1`,
  );
  return result.rows[0]!.id;
}

describe('every write that changes a page invalidates it before it is answered', () => {
  for (const [name, write, prepare] of WRITERS) {
    it(name, async () => {
      const shop = await createBusiness(deps);
      const product = await stockedProduct(shop);
      await prepare?.(shop, product);
      const before = await warm(shop);
      await write(shop, product);
      await expectFresh(shop, before);
    });
  }
});

describe('never stale after a committed write', () => {
  /** A second "process": its own pool and Redis connection, the same database and Redis. */
  const other = createTestApp();

  it('parallel sales and edits while readers loop: the page after the last answer is PostgreSQL’s', async () => {
    const shop = await createBusiness(deps);
    const stock = await Promise.all(
      Array.from({ length: 4 }, () => stockedProduct(shop, { stockQuantity: 1_000 })),
    );
    for (let round = 0; round < 3; round++) {
      let writing = true;
      let reads = 0;
      const reader = async () => {
        while (writing) {
          const response = await getPage(shop);
          expect(response.status).toBe(200);
          reads += 1;
        }
      };
      const readers = Array.from({ length: 4 }, reader);
      const writes = [
        ...Array.from({ length: 12 }, (_, index) =>
          sell(http, shop.cashier, [{ product: stock[index % stock.length]! }]),
        ),
        ...stock.map((product, index) =>
          http
            .patch(`/products/${product.id}`)
            .set('Authorization', shop.owner.auth)
            .send({ name: `Round ${round} product ${index}` })
            .expect(200),
        ),
      ];
      await Promise.all(writes);
      writing = false;
      await Promise.all(readers);
      expect(reads).toBeGreaterThan(0);
      const page = await getPage(shop).expect(200);
      expect(page.text).toBe(await uncached(shop));
      expect(page.body.data.map((item: { name: string }) => item.name).sort()).toEqual(
        stock.map((_, index) => `Round ${round} product ${index}`).sort(),
      );
    }
  });

  it('two API processes share the cache: a write answered by one is seen by the other', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner, { name: 'One' });
    const read = () =>
      other.http.get('/products').query(QUERY).set('Authorization', shop.cashier.auth);
    const before = await read().expect(200);
    await read()
      .set('If-None-Match', before.headers.etag as string)
      .expect(304);
    await http
      .patch(`/products/${product.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Two' })
      .expect(200);
    const after = await read()
      .set('If-None-Match', before.headers.etag as string)
      .expect(200);
    expect(after.body.data[0].name).toBe('Two');
  });

  it('a render that started before a write and is stored after its bump is never served', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner, { name: 'Before' });
    // Hold the next reader between its PostgreSQL render and its store.
    let rendered!: () => void;
    const renderedOld = new Promise<void>((resolve) => (rendered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    deps.catalogCacheHooks = {
      afterRender: async () => {
        deps.catalogCacheHooks = undefined;
        rendered();
        await released;
      },
    };
    try {
      const slowRead = getPage(shop).then((response) => response);
      await renderedOld;
      await http
        .patch(`/products/${product.id}`)
        .set('Authorization', shop.owner.auth)
        .send({ name: 'After' })
        .expect(200);
      release();
      // It started before the write: it may answer the old page.
      expect((await slowRead).body.data[0].name).toBe('Before');
    } finally {
      deps.catalogCacheHooks = undefined;
      release();
    }
    const next = await getPage(shop).expect(200);
    expect(next.body.data[0].name).toBe('After');
    expect(next.text).toBe(await uncached(shop));
  });
});

describe('Redis down', () => {
  const down = createTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });

  it('pages, 304s and writes are served from PostgreSQL', async () => {
    const shop = await createBusiness(down.deps);
    const product = await postProduct(down.http, shop.owner, { name: 'Offline' });
    const read = (etag?: string) => {
      const request = down.http
        .get('/products')
        .query(QUERY)
        .set('Authorization', shop.cashier.auth);
      return etag ? request.set('If-None-Match', etag) : request;
    };
    const first = await read().expect(200);
    expect(first.text).toBe(await uncached(shop));
    await read(first.headers.etag as string).expect(304);
    await down.http
      .patch(`/products/${product.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Still offline' })
      .expect(200);
    const after = await read(first.headers.etag as string).expect(200);
    expect(after.body.data[0].name).toBe('Still offline');
    expect(after.text).toBe(await uncached(shop));
  });
});
