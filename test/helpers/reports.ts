import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type supertest from 'supertest';
import type { TestProduct } from './sales-factories.js';

/** A small seeded PRNG (mulberry32): the same seed makes the same sales. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
}

export type Random = ReturnType<typeof seededRandom>;

/**
 * A random valid sale body at `occurredAt`: 1–3 lines (whole or half quantities of
 * even-priced products, so the total is exact), optional line and sale discounts, and
 * payments of every shape (cash with change, M-Pesa, card + cash split).
 */
export function randomSaleBody(random: Random, products: TestProduct[], occurredAt: Date) {
  const lines = Array.from({ length: random.int(1, 3) }, () => {
    const product = random.pick(products);
    const quantity = random.pick([1, 2, 3, 0.5, 1.5]);
    const gross = Math.round(quantity * product.price);
    const discount = random.next() < 0.2 ? random.int(0, Math.floor(gross / 4)) : 0;
    return { product, quantity, discount, total: gross - discount };
  });
  const subtotal = lines.reduce((sum, line) => sum + line.total, 0);
  const saleDiscount = random.next() < 0.25 ? random.int(1, Math.floor(subtotal / 5) + 1) : 0;
  const total = subtotal - saleDiscount;
  const shape = random.pick(['cash', 'mpesa', 'split', 'cash-exact'] as const);
  const payments =
    shape === 'cash'
      ? [{ method: 'cash', amount: total + random.int(0, 100) * 100 }]
      : shape === 'cash-exact'
        ? [{ method: 'cash', amount: total }]
        : shape === 'mpesa'
          ? [{ method: 'mpesa', amount: total, reference: `MP${random.int(100000, 999999)}` }]
          : [
              { method: 'card', amount: Math.floor(total / 2) },
              { method: 'cash', amount: total - Math.floor(total / 2) + random.int(0, 5) * 100 },
            ];
  return {
    clientRequestId: randomUUID(),
    occurredAt: occurredAt.toISOString(),
    lines: lines.map((line) => ({
      productId: line.product.id,
      quantity: line.quantity,
      ...(line.discount ? { discount: line.discount } : {}),
    })),
    ...(saleDiscount ? { discount: saleDiscount } : {}),
    payments,
    total,
  };
}

export interface RecordedSale {
  id: string;
  number: number;
  status: 'completed' | 'voided';
  occurredAt: string;
  cashierId: string;
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  change: number;
  lines: { productId: string; total: number; tax: number; discount: number }[];
  payments: { method: string; amount: number }[];
}

/** Records the bodies through POST /sales/sync (100 a batch) and returns the stored sales. */
export async function syncSales(
  http: supertest.Agent,
  auth: string,
  bodies: Record<string, unknown>[],
): Promise<RecordedSale[]> {
  const recorded: RecordedSale[] = [];
  for (let start = 0; start < bodies.length; start += 100) {
    const response = await http
      .post('/sales/sync')
      .set('Authorization', auth)
      .send({ sales: bodies.slice(start, start + 100) });
    expect(response.status).toBe(200);
    for (const result of response.body.results as { status: string; sale: RecordedSale }[]) {
      expect(result.status).toBe('created');
      recorded.push(result.sale);
    }
  }
  return recorded;
}
