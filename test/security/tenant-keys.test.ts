import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';

/*
 * Tenant isolation held by the database itself, under the application's checks: a sale
 * line, payment or stock movement names its sale or product together with its business
 * (composite foreign keys, drizzle/0003), so a row joining another business's sale or
 * product is refused whatever code wrote it. Each case first writes the same row with the
 * right business (accepted), so a refusal can only come from the business mismatch.
 */

const { http, deps } = createTestApp();
const a = await createBusiness(deps);
const b = await createBusiness(deps);
const productA = await insertProduct(deps, a.id, a.owner.id);
const productB = await insertProduct(deps, b.id, b.owner.id);

async function saleOf(business: typeof a, product: typeof productA): Promise<string> {
  const response = await http
    .post('/sales')
    .set('Authorization', business.cashier.auth)
    .send(saleBody([{ product }]));
  expect(response.status).toBe(201);
  return response.body.id as string;
}
const saleA = await saleOf(a, productA);
const saleB = await saleOf(b, productB);

const FOREIGN_KEY_VIOLATION = '23503';

/** Runs the statement in a transaction that is always rolled back; returns the error code. */
async function codeOf(text: string, values: unknown[]): Promise<string | null> {
  const client = await deps.pool.connect();
  try {
    await client.query('begin');
    await client.query(text, values);
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? 'unknown';
  } finally {
    await client.query('rollback');
    client.release();
  }
}

const line = (saleId: string, businessId: string, productId: string) =>
  codeOf(
    `insert into sale_lines (id, sale_id, business_id, product_id, position, name, quantity,
       unit_price, catalog_price, tax_rate, discount, sale_discount_share, tax, total)
     values ($1, $2, $3, $4, 99, 'x', 1, 100, 100, 0, 0, 0, 0, 100)`,
    [newId(), saleId, businessId, productId],
  );
const payment = (saleId: string, businessId: string) =>
  codeOf(
    `insert into sale_payments (id, sale_id, business_id, position, method, amount)
     values ($1, $2, $3, 99, 'cash', 100)`,
    [newId(), saleId, businessId],
  );
const movement = (businessId: string, productId: string, userId: string) =>
  codeOf(
    `insert into stock_movements (id, business_id, product_id, type, delta, quantity_after, created_by)
     values ($1, $2, $3, 'adjust', 1, 1, $4)`,
    [newId(), businessId, productId, userId],
  );

describe('composite tenant keys', () => {
  it('a sale line must name a sale and a product of its own business', async () => {
    expect(await line(saleA, a.id, productA.id)).toBeNull();
    // Another business's sale, with either business's id on the line.
    expect(await line(saleB, a.id, productA.id)).toBe(FOREIGN_KEY_VIOLATION);
    expect(await line(saleA, b.id, productA.id)).toBe(FOREIGN_KEY_VIOLATION);
    // Another business's product on an own sale.
    expect(await line(saleA, a.id, productB.id)).toBe(FOREIGN_KEY_VIOLATION);
    // A sale or product that does not exist at all.
    expect(await line(randomUUID(), a.id, productA.id)).toBe(FOREIGN_KEY_VIOLATION);
    expect(await line(saleA, a.id, randomUUID())).toBe(FOREIGN_KEY_VIOLATION);
  });

  it('a payment must name a sale of its own business', async () => {
    expect(await payment(saleA, a.id)).toBeNull();
    expect(await payment(saleB, a.id)).toBe(FOREIGN_KEY_VIOLATION);
    expect(await payment(saleA, b.id)).toBe(FOREIGN_KEY_VIOLATION);
    expect(await payment(randomUUID(), a.id)).toBe(FOREIGN_KEY_VIOLATION);
  });

  it('a stock movement must name a product of its own business', async () => {
    expect(await movement(a.id, productA.id, a.owner.id)).toBeNull();
    expect(await movement(a.id, productB.id, a.owner.id)).toBe(FOREIGN_KEY_VIOLATION);
    expect(await movement(b.id, productA.id, a.owner.id)).toBe(FOREIGN_KEY_VIOLATION);
    expect(await movement(randomUUID(), productA.id, a.owner.id)).toBe(FOREIGN_KEY_VIOLATION);
  });

  it('a referenced sale or product cannot be deleted from under its rows', async () => {
    expect(await codeOf('delete from sales where id = $1', [saleA])).toBe(FOREIGN_KEY_VIOLATION);
    expect(await codeOf('delete from products where id = $1', [productA.id])).toBe(
      FOREIGN_KEY_VIOLATION,
    );
  });
});
