import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { postProduct } from '../helpers/catalog.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const { http, deps } = createTestApp();

describe('categories', () => {
  it('create (201 + Location), list by name with paging, rename, delete', async () => {
    const shop = await createBusiness(deps);
    const names = ['Snacks', 'Drinks', 'Bakery'];
    for (const name of names) {
      const response = await http
        .post('/categories')
        .set('Authorization', shop.manager.auth)
        .send({ name });
      expect(response.status).toBe(201);
      expect(response.headers.location).toBe(`/categories/${response.body.id}`);
      expect(response.body).toEqual({
        id: expect.any(String),
        name,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    }
    const first = await http.get('/categories?limit=2').set('Authorization', shop.cashier.auth);
    expect(first.body.data.map((category: { name: string }) => category.name)).toEqual([
      'Bakery',
      'Drinks',
    ]);
    const rest = await http
      .get('/categories')
      .query({ limit: 2, cursor: first.body.nextCursor })
      .set('Authorization', shop.cashier.auth);
    expect(rest.body).toEqual({
      data: [expect.objectContaining({ name: 'Snacks' })],
      nextCursor: null,
    });

    const snacks = rest.body.data[0];
    const renamed = await http
      .patch(`/categories/${snacks.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Sweets' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: snacks.id, name: 'Sweets' });

    await http.delete(`/categories/${snacks.id}`).set('Authorization', shop.owner.auth).expect(204);
    await http.delete(`/categories/${snacks.id}`).set('Authorization', shop.owner.auth).expect(404);
  });

  it('names are unique per business, case-insensitively: 409 naming name', async () => {
    const shop = await createBusiness(deps);
    await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Drinks' })
      .expect(201);
    const clash = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'drinks' });
    expect(clash.status).toBe(409);
    expect(clash.body.errors).toEqual([expect.objectContaining({ path: 'name', code: 'unique' })]);
    const empty = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: ' ' });
    expect(empty.status).toBe(400);
  });

  it('deleting a category detaches its products as edits the delta sync sees', async () => {
    const shop = await createBusiness(deps);
    const category = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Old' });
    const product = await postProduct(http, shop.owner, { categoryId: category.body.id });
    await http
      .delete(`/categories/${category.body.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(204);
    const delta = await http
      .get('/products')
      .query({ updatedSince: product.updatedAt })
      .set('Authorization', shop.cashier.auth);
    expect(delta.body.data).toEqual([expect.objectContaining({ id: product.id, version: 2 })]);
    expect(delta.body.data[0]).not.toHaveProperty('categoryId');
    const events = await outboxRowsOf(deps, shop.id, { kind: 'event', types: ['product.updated'] });
    expect(events.map((event) => event.payload)).toEqual([delta.body.data[0]]);
  });

  it('every category route gets the shared guards', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const category = await http
      .post('/categories')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Guarded' });
    const businesses = { owner: shop, other };
    await expectRouteGuards(http, businesses, {
      method: 'get',
      path: '/categories',
      allowed: ['owner', 'manager', 'cashier'],
      namesResource: false,
    });
    await expectRouteGuards(http, businesses, {
      method: 'post',
      path: '/categories',
      body: { name: 'New one' },
      allowed: ['owner', 'manager'],
      namesResource: false,
    });
    await expectRouteGuards(http, businesses, {
      method: 'patch',
      path: `/categories/${category.body.id}`,
      body: { name: 'Renamed' },
      allowed: ['owner', 'manager'],
      namesResource: true,
    });
    await expectRouteGuards(http, businesses, {
      method: 'delete',
      path: `/categories/${category.body.id}`,
      allowed: ['owner', 'manager'],
      namesResource: true,
    });
    const list = await http.get('/categories').set('Authorization', shop.owner.auth);
    expect(list.body.data).toEqual([expect.objectContaining({ name: 'Guarded' })]);
  });
});
