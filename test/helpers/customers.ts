import { randomUUID } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type supertest from 'supertest';
import { expect } from 'vitest';
import type { AppDeps } from '../../src/deps.js';
import { customerLedgerEntries, customers } from '../../src/db/schema/index.js';
import type { TestUser } from './factories.js';
import { saleBody, type TestProduct } from './sales-factories.js';

type Http = supertest.Agent | ReturnType<typeof supertest>;

/** POST /customers as `user`; the created customer. */
export async function postCustomer(
  http: Http,
  user: TestUser,
  body: Record<string, unknown> = {},
): Promise<{ id: string; balance: number; phone: string | null }> {
  const response = await http
    .post('/customers')
    .set('Authorization', user.auth)
    .send({ name: `Mama Njeri ${randomUUID().slice(0, 6)}`, ...body });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; balance: number; phone: string | null };
}

/** A POST /sales body of `product` × quantity paid entirely on the customer's account. */
export function creditSaleBody(
  product: TestProduct,
  customerId: string,
  quantity = 1,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const amount = Math.round(quantity * product.price);
  return saleBody([{ product, quantity }], {
    customerId,
    payments: [{ method: 'credit', amount }],
    ...overrides,
  });
}

/** A POST /customers/:id/payments body. */
export function paymentBody(amount: number, overrides: Record<string, unknown> = {}) {
  return {
    clientRequestId: randomUUID(),
    amount,
    method: 'cash',
    occurredAt: new Date(Date.now() - 1000).toISOString(),
    ...overrides,
  };
}

/** The customer row and their ledger in order, read straight from the tables. */
export async function ledgerOf(deps: AppDeps, customerId: string) {
  const [row] = await deps.db.select().from(customers).where(eq(customers.id, customerId));
  const entries = await deps.db
    .select()
    .from(customerLedgerEntries)
    .where(eq(customerLedgerEntries.customerId, customerId))
    .orderBy(asc(customerLedgerEntries.position));
  return { customer: row!, entries };
}

/** The ledger rule: balance = Σ entries, entry_count = their number, each balanceAfter a running sum. */
export async function expectLedgerExact(deps: AppDeps, customerId: string): Promise<number> {
  const { customer, entries } = await ledgerOf(deps, customerId);
  let running = 0;
  entries.forEach((entry, index) => {
    running += entry.amount;
    expect(entry.position).toBe(index + 1);
    expect(entry.balanceAfter).toBe(running);
  });
  expect(customer.balance).toBe(running);
  expect(customer.entryCount).toBe(entries.length);
  return running;
}
