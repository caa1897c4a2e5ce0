import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type supertest from 'supertest';
import type { TestUser } from './factories.js';
import { saleBody, type TestProduct } from './sales-factories.js';

/** A sale as the API answers it, with what returns read from it. */
export interface SoldSale {
  id: string;
  number: number;
  status: string;
  total: number;
  tax: number;
  locationId: string;
  returnedTotal: number;
  lines: {
    id: string;
    productId: string;
    quantity: number;
    total: number;
    tax: number;
    returnedQuantity: number;
  }[];
}

/** Sells `lines` through POST /sales (cash, exact); `overrides` as in saleBody (discount, …). */
export async function sell(
  http: supertest.Agent,
  user: TestUser,
  lines: { product: TestProduct; quantity?: number; discount?: number }[],
  overrides: Record<string, unknown> = {},
): Promise<SoldSale> {
  const body = saleBody(lines, overrides);
  body.lines = lines.map((line) => ({
    productId: line.product.id,
    quantity: line.quantity ?? 1,
    ...(line.discount ? { discount: line.discount } : {}),
  }));
  // Pay whatever the server computes: a first try answers TOTALS_MISMATCH-free totals.
  const gross = lines.reduce(
    (sum, line) =>
      sum + Math.round((line.quantity ?? 1) * line.product.price) - (line.discount ?? 0),
    0,
  );
  const discount = typeof overrides.discount === 'number' ? overrides.discount : 0;
  body.payments = [{ method: 'cash', amount: gross - discount }];
  const response = await http.post('/sales').set('Authorization', user.auth).send(body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as SoldSale;
}

/** A POST /returns body: `lines` of the sale, refunded in cash by `amount` (or `refunds`). */
export function returnBody(
  sale: { id: string },
  lines: { saleLineId: string; quantity: number; restock?: boolean }[],
  amount: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    clientRequestId: randomUUID(),
    saleId: sale.id,
    occurredAt: new Date(Date.now() - 30_000).toISOString(),
    reason: 'Customer changed their mind',
    lines,
    refunds: amount === 0 ? [] : [{ method: 'cash', amount }],
    ...overrides,
  };
}

export function postReturn(http: supertest.Agent, user: TestUser, body: Record<string, unknown>) {
  return http.post('/returns').set('Authorization', user.auth).send(body);
}
