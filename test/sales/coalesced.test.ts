import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { insertProduct, saleBody, stockOf } from '../helpers/sales-factories.js';

// src/modules/sales/sale-coalescer.ts: POST /sales of one business arriving while a write is
// in flight are written together. Each sale must still get its own answer, its own cashier
// and nothing of its neighbours' fate.
const { http, deps } = createTestApp();

describe('POST /sales coalesced per business', () => {
  it('parallel sales of three tills: each answered alone, written in fewer commits, numbers gap-free, each by its own cashier', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id, {
      price: 700,
      stockQuantity: 1_000,
    });
    const tills = [shop.cashier, shop.cashier2, shop.manager];
    const sent = Array.from({ length: 30 }, (_, index) => ({
      user: tills[index % tills.length]!,
      body: saleBody([{ product, quantity: 2 }]),
    }));
    // One of them replays another's sale (same body): a duplicate, not a second sale.
    sent.push({ user: shop.cashier, body: sent[4]!.body });
    // One breaks a rule (a product of no one): only it is refused.
    const unknown = saleBody([
      { product: { ...product, id: '0190f1c2-7a3e-7c1d-9b2a-3f4e5d6c7b8a' } },
    ]);
    sent.push({ user: shop.cashier2, body: unknown });

    const answers = await Promise.all(
      sent.map(({ user, body }) => http.post('/sales').set('Authorization', user.auth).send(body)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(201));
    expect([201, 200]).toContain(statuses[30]);
    expect(statuses[31]).toBe(422);
    // The replay answers the sale its original made, whichever of the two was written first.
    expect(answers[30]!.body.id).toBe(answers[4]!.body.id);
    answers.slice(0, 30).forEach((answer, index) => {
      expect(answer.body.cashierId).toBe(sent[index]!.user.id);
      expect(answer.body.clientRequestId).toBe(sent[index]!.body.clientRequestId);
    });

    const { rows } = await deps.db.execute<{
      sales: number;
      commits: number;
      first: number;
      last: number;
      wrong_cashier: number;
      wrong_mover: number;
    }>(sql`
      select count(*)::int as sales, count(distinct s.xmin::text)::int as commits,
        min(s.number)::int as first, max(s.number)::int as last,
        (select count(*)::int from sales x where x.business_id = ${shop.id}
          and x.cashier_id <> all(${sql.param(tills.map((till) => till.id))}::uuid[])) as wrong_cashier,
        (select count(*)::int from stock_movements m join sales x on x.id = m.sale_id
          where m.business_id = ${shop.id} and m.created_by <> x.cashier_id) as wrong_mover
      from sales s where s.business_id = ${shop.id}`);
    const facts = rows[0]!;
    expect(facts).toMatchObject({
      sales: 30,
      first: 1,
      last: 30,
      wrong_cashier: 0,
      wrong_mover: 0,
    });
    // Coalesced: some commits wrote several sales (one per sale were 30 commits).
    expect(facts.commits).toBeLessThan(30);
    expect((await stockOf(deps, product.id)).stockQuantity).toBe(1_000 - 30 * 2);
  });
});
