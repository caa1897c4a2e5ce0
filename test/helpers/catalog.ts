import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type supertest from 'supertest';
import type { Product } from '../../src/modules/catalog/catalog.schemas.js';
import type { TestUser } from './factories.js';

let counter = 0;

/** Creates a product through the API (201 asserted) and returns it. */
export async function postProduct(
  http: supertest.Agent,
  user: TestUser,
  overrides: Record<string, unknown> = {},
): Promise<Product> {
  counter += 1;
  const response = await http
    .post('/products')
    .set('Authorization', user.auth)
    .send({ name: `Product ${counter}`, price: 10_000, taxRate: 1600, ...overrides });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as Product;
}

/** POST /inventory/adjustments with a fresh (or given) Idempotency-Key. */
export function adjust(
  http: supertest.Agent,
  user: TestUser,
  items: Record<string, unknown>[],
  key: string = randomUUID(),
) {
  return http
    .post('/inventory/adjustments')
    .set('Authorization', user.auth)
    .set('Idempotency-Key', key)
    .send({ items });
}
