import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { customerLedgerEntries, sales } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import {
  creditSaleBody,
  expectLedgerExact,
  paymentBody,
  postCustomer,
} from '../helpers/customers.js';
import { createBusiness } from '../helpers/factories.js';
import { insertProduct } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

describe('POST /customers', () => {
  it('creates with a till-made id: same body again is 200, another body 422; phone normalised', async () => {
    const shop = await createBusiness(deps);
    const id = randomUUID();
    const body = { id, name: 'Mama Njeri', phone: '0712 345 678', kraPin: 'a123456789z' };
    const first = await http.post('/customers').set('Authorization', shop.cashier.auth).send(body);
    expect(first.status, first.text).toBe(201);
    expect(first.headers.location).toBe(`/customers/${id}`);
    expect(first.body).toMatchObject({
      id,
      name: 'Mama Njeri',
      phone: '254712345678',
      kraPin: 'A123456789Z',
      balance: 0,
      creditLimit: null,
      deleted: false,
    });
    const again = await http.post('/customers').set('Authorization', shop.cashier.auth).send(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const other = await http
      .post('/customers')
      .set('Authorization', shop.cashier.auth)
      .send({ ...body, name: 'Someone else' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // The same id from another business is refused too, and reveals nothing of the first.
    const stranger = await createBusiness(deps);
    const theirs = await http
      .post('/customers')
      .set('Authorization', stranger.owner.auth)
      .send(body);
    expect(theirs.status).toBe(422);
    expect(JSON.stringify(theirs.body)).not.toContain('254712345678');
  });

  it('refuses a phone that is not a Kenyan mobile, unknown fields and a cashier setting a limit', async () => {
    const shop = await createBusiness(deps);
    const bad = await http
      .post('/customers')
      .set('Authorization', shop.cashier.auth)
      .send({ name: 'X', phone: '12345' });
    expect(bad.status).toBe(400);
    const extra = await http
      .post('/customers')
      .set('Authorization', shop.cashier.auth)
      .send({ name: 'X', balance: -100 });
    expect(extra.status).toBe(400);
    const limit = await http
      .post('/customers')
      .set('Authorization', shop.cashier.auth)
      .send({ name: 'X', creditLimit: 100_000 });
    expect(limit.status).toBe(403);
    const byManager = await http
      .post('/customers')
      .set('Authorization', shop.manager.auth)
      .send({ name: 'X', creditLimit: 100_000 });
    expect(byManager.status).toBe(201);
    expect(byManager.body.creditLimit).toBe(100_000);
  });
});

describe('GET/PATCH /customers', () => {
  it('searches by name or phone, pages by cursor, other businesses never seen', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    await postCustomer(http, other.owner, { name: 'Wanjiru Other', phone: '0722000111' });
    const wanjiru = await postCustomer(http, shop.cashier, {
      name: 'Wanjiru Kamau',
      phone: '0722000111',
    });
    const otieno = await postCustomer(http, shop.cashier, {
      name: 'Otieno 50%_',
      phone: '0733000222',
    });
    const byName = await http.get('/customers?q=wanjiru').set('Authorization', shop.cashier.auth);
    expect(byName.body.data.map((c: { id: string }) => c.id)).toEqual([wanjiru.id]);
    for (const q of ['0722000111', '722000', '+254722000111']) {
      const byPhone = await http
        .get(`/customers?q=${encodeURIComponent(q)}`)
        .set('Authorization', shop.cashier.auth);
      expect(byPhone.body.data.map((c: { id: string }) => c.id)).toEqual([wanjiru.id]);
    }
    const wildcard = await http.get('/customers?q=%25').set('Authorization', shop.cashier.auth);
    expect(wildcard.body.data.map((c: { id: string }) => c.id)).toEqual([otieno.id]);
    const page1 = await http.get('/customers?limit=1').set('Authorization', shop.cashier.auth);
    expect(page1.body.data).toHaveLength(1);
    const page2 = await http
      .get(`/customers?limit=1&cursor=${page1.body.nextCursor}`)
      .set('Authorization', shop.cashier.auth);
    expect(page2.body.data[0].id).not.toBe(page1.body.data[0].id);
    expect(page2.body.nextCursor).toBeNull();
  });

  it('changes details; the credit limit only by a manager or the owner', async () => {
    const shop = await createBusiness(deps);
    const customer = await postCustomer(http, shop.cashier);
    const renamed = await http
      .patch(`/customers/${customer.id}`)
      .set('Authorization', shop.cashier.auth)
      .send({ name: 'Mama Njeri II', email: 'njeri@example.test' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Mama Njeri II', email: 'njeri@example.test' });
    const byCashier = await http
      .patch(`/customers/${customer.id}`)
      .set('Authorization', shop.cashier.auth)
      .send({ creditLimit: 500_000 });
    expect(byCashier.status).toBe(403);
    const byManager = await http
      .patch(`/customers/${customer.id}`)
      .set('Authorization', shop.manager.auth)
      .send({ creditLimit: 500_000 });
    expect(byManager.status).toBe(200);
    expect(byManager.body.creditLimit).toBe(500_000);
    const removed = await http
      .patch(`/customers/${customer.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ creditLimit: null, phone: null });
    expect(removed.body).toMatchObject({ creditLimit: null, phone: null });
  });

  it("another business's customer is 404 on every route", async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const theirs = await postCustomer(http, other.owner);
    const auth = shop.owner.auth;
    expect((await http.get(`/customers/${theirs.id}`).set('Authorization', auth)).status).toBe(404);
    expect(
      (await http.patch(`/customers/${theirs.id}`).set('Authorization', auth).send({ name: 'x' }))
        .status,
    ).toBe(404);
    expect((await http.delete(`/customers/${theirs.id}`).set('Authorization', auth)).status).toBe(
      404,
    );
    expect(
      (
        await http
          .post(`/customers/${theirs.id}/payments`)
          .set('Authorization', auth)
          .send(paymentBody(100))
      ).status,
    ).toBe(404);
    expect(
      (await http.get(`/customers/${theirs.id}/statement`).set('Authorization', auth)).status,
    ).toBe(404);
  });
});

describe('DELETE /customers/:id (erasure)', () => {
  it('erases the person, keeps the sales and the balance; the account can still be paid', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 10_000 });
    const customer = await postCustomer(http, shop.cashier, {
      name: 'Achieng Odhiambo',
      phone: '0711222333',
      email: 'achieng@example.test',
      kraPin: 'A123456789B',
      note: 'pays on Fridays',
    });
    const sale = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(creditSaleBody(product, customer.id, 2, { customerPhone: '0711222333' }));
    expect(sale.status, sale.text).toBe(201);

    expect(
      (await http.delete(`/customers/${customer.id}`).set('Authorization', shop.manager.auth))
        .status,
    ).toBe(403);
    expect(
      (await http.delete(`/customers/${customer.id}`).set('Authorization', shop.cashier.auth))
        .status,
    ).toBe(403);
    const erased = await http
      .delete(`/customers/${customer.id}`)
      .set('Authorization', shop.owner.auth);
    expect(erased.status).toBe(204);
    // Twice changes nothing.
    expect(
      (await http.delete(`/customers/${customer.id}`).set('Authorization', shop.owner.auth)).status,
    ).toBe(204);

    const read = await http.get(`/customers/${customer.id}`).set('Authorization', shop.owner.auth);
    expect(read.body).toMatchObject({
      name: 'Deleted customer',
      phone: null,
      email: null,
      kraPin: null,
      note: null,
      deleted: true,
      balance: 20_000,
    });
    expect(JSON.stringify(read.body)).not.toContain('Achieng');
    const [saleRow] = await deps.db.select().from(sales).where(eq(sales.id, sale.body.id));
    expect(saleRow).toMatchObject({ customerId: customer.id, customerPhone: null, total: 20_000 });
    // Not found by search any more.
    const search = await http.get('/customers?q=Achieng').set('Authorization', shop.owner.auth);
    expect(search.body.data).toEqual([]);
    // Details cannot be put back.
    const patch = await http
      .patch(`/customers/${customer.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Achieng' });
    expect(patch.status).toBe(422);
    // No reminder to an erased person (no phone any more).
    const remind = await http
      .post(`/customers/${customer.id}/remind`)
      .set('Authorization', shop.owner.auth);
    expect(remind.status).toBe(422);
    // The debt is a fact: it can still be paid, and the statement still adds up.
    const paid = await http
      .post(`/customers/${customer.id}/payments`)
      .set('Authorization', shop.cashier.auth)
      .send(paymentBody(5_000));
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body.balanceAfter).toBe(15_000);
    expect(await expectLedgerExact(deps, customer.id)).toBe(15_000);
    const entries = await deps.db
      .select()
      .from(customerLedgerEntries)
      .where(eq(customerLedgerEntries.customerId, customer.id));
    expect(entries.map((entry) => entry.type).sort()).toEqual(['payment', 'sale']);
  });
});
