import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { creditSaleBody, expectLedgerExact, postCustomer } from '../helpers/customers.js';
import { postReturn, returnBody } from '../helpers/returns.js';
import { insertProduct } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

describe('a credit refund (method "credit")', () => {
  it('lowers what the sale’s customer owes, as a return entry of their statement; concurrent returns keep the ledger exact', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 10_000 });
    const customer = await postCustomer(http, shop.cashier);
    const sale = (
      await http
        .post('/sales')
        .set('Authorization', shop.cashier.auth)
        .send(creditSaleBody(product, customer.id, 6))
        .expect(201)
    ).body as { id: string; lines: { id: string }[] };

    const responses = await Promise.all(
      [1, 2, 3].map(() =>
        postReturn(
          http,
          shop.manager,
          returnBody(sale, [{ saleLineId: sale.lines[0]!.id, quantity: 2 }], 0, {
            refunds: [{ method: 'credit', amount: 20_000 }],
          }),
        ),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);

    expect(await expectLedgerExact(deps, customer.id)).toBe(0);
    const statement = await http
      .get(`/customers/${customer.id}/statement`)
      .set('Authorization', shop.manager.auth)
      .expect(200);
    const entries = (
      statement.body as { data: { type: string; amount: number; returnId?: string }[] }
    ).data;
    expect(entries.filter((entry) => entry.type === 'return')).toHaveLength(3);
    expect(
      entries.filter((entry) => entry.type === 'return').every((entry) => entry.amount === -20_000),
    ).toBe(true);
    const ids = responses.map((response) => (response.body as { id: string }).id).sort();
    expect(entries.flatMap((entry) => (entry.returnId ? [entry.returnId] : [])).sort()).toEqual(
      ids,
    );
  });
});
