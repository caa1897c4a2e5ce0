import { describe, expect, it } from 'vitest';
import { conditionalGet, createClient, createEtagStore } from '../../sdk/src/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { listenForTest } from '../helpers/listen.js';
import { adjust, postProduct } from '../helpers/catalog.js';

const { http, deps, app } = createTestApp();
const server = await listenForTest(app);

describe('conditional GET for fetch clients (RFC 9110 §13.2)', () => {
  it('answers 304 to If-None-Match although fetch adds Cache-Control/Pragma: no-cache', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    for (const path of [`/products/${product.id}`, '/products?limit=50']) {
      const first = await fetch(`${server.baseUrl}${path}`, {
        headers: { authorization: shop.cashier.auth },
      });
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      await first.arrayBuffer();
      // What Node's fetch (undici) and browsers send beside a hand-set If-None-Match.
      const again = await fetch(`${server.baseUrl}${path}`, {
        headers: {
          authorization: shop.cashier.auth,
          'if-none-match': etag,
          'cache-control': 'no-cache',
          pragma: 'no-cache',
        },
      });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
      // A list of tags, weak or not, matches too; another tag does not.
      const listed = await fetch(`${server.baseUrl}${path}`, {
        headers: { authorization: shop.cashier.auth, 'if-none-match': `"other", W/${etag}` },
      });
      expect(listed.status).toBe(304);
      const other = await fetch(`${server.baseUrl}${path}`, {
        headers: { authorization: shop.cashier.auth, 'if-none-match': '"other"' },
      });
      expect(other.status).toBe(200);
      await other.arrayBuffer();
    }
  });

  it('the SDK keeps the ETag and says "not modified" until the catalog changes', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const api = createClient({ baseUrl: server.baseUrl, token: shop.cashier.token });
    const etags = createEtagStore();
    const read = () =>
      conditionalGet(etags, 'products', (header) =>
        api.GET('/products', { params: { query: { limit: '50' }, header } }),
      );
    const first = await read();
    expect(first.notModified).toBe(false);
    expect(first.notModified ? [] : first.data.data.map((item) => item.id)).toEqual([product.id]);
    expect(await read()).toEqual({ notModified: true, etag: first.etag });

    await adjust(http, shop.owner, [
      { productId: product.id, type: 'receive', quantity: 2 },
    ]).expect(201);
    const changed = await read();
    expect(changed.notModified).toBe(false);
    expect(changed.notModified ? undefined : changed.data.data[0]?.stockQuantity).toBe(2);
    expect(changed.etag).not.toBe(first.etag);
  });
});
