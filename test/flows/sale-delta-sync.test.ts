import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';

const { http, deps } = createTestApp();

describe('sales and the catalog delta sync', () => {
  it('a sale (and its void) bumps the stock level into the next updatedSince delta, never the version', async () => {
    const shop = await createBusiness(deps);
    const created = await http
      .post('/products')
      .set('Authorization', shop.manager.auth)
      .send({ name: 'Unga 2kg', price: 25000, taxRate: 0, unit: 'each', trackStock: true });
    expect(created.status).toBe(201);
    const product = created.body as { id: string; updatedAt: string; version: number };

    const sync = async (since: string) => {
      const page = await http
        .get(`/products?updatedSince=${encodeURIComponent(since)}`)
        .set('Authorization', shop.cashier.auth);
      expect(page.status).toBe(200);
      return page.body.data as {
        id: string;
        updatedAt: string;
        version: number;
        stockQuantity: number;
      }[];
    };
    expect(await sync(product.updatedAt)).toEqual([]);

    const sale = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send({
        clientRequestId: crypto.randomUUID(),
        occurredAt: new Date().toISOString(),
        lines: [{ productId: product.id, quantity: 2 }],
        payments: [{ method: 'cash', amount: 50000 }],
      });
    expect(sale.status).toBe(201);

    const afterSale = await sync(product.updatedAt);
    expect(afterSale).toHaveLength(1);
    expect(afterSale[0]).toMatchObject({
      id: product.id,
      stockQuantity: -2,
      version: product.version,
    });
    expect(await sync(afterSale[0]!.updatedAt)).toEqual([]);

    const voided = await http
      .post(`/sales/${sale.body.id}/void`)
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'customer changed mind' });
    expect(voided.status).toBe(200);
    const afterVoid = await sync(afterSale[0]!.updatedAt);
    expect(afterVoid).toHaveLength(1);
    expect(afterVoid[0]).toMatchObject({
      id: product.id,
      stockQuantity: 0,
      version: product.version,
    });
  });
});
