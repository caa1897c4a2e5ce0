import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { assign, openLocation } from '../helpers/locations.js';
import { expectProblem } from '../helpers/problem.js';
import { postReturn, returnBody, sell } from '../helpers/returns.js';
import { insertProduct } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

const idsOf = (body: { data: { id: string }[] }) => body.data.map((row) => row.id);

async function shopWithReturns() {
  const shop = await createBusiness(deps, { timezone: 'Africa/Nairobi' });
  const branch = await openLocation(http, shop.owner);
  const product = await insertProduct(deps, shop.id, shop.owner.id, { price: 1000 });
  const atMain = await sell(http, shop.owner, [{ product, quantity: 5 }]);
  const atBranch = await sell(http, shop.owner, [{ product, quantity: 5 }], {
    locationId: branch.id,
  });
  const made = async (
    sale: typeof atMain,
    occurredAt: string,
    overrides: Record<string, unknown> = {},
  ) =>
    (
      await postReturn(
        http,
        shop.owner,
        returnBody(sale, [{ saleLineId: sale.lines[0]!.id, quantity: 1 }], 1000, {
          occurredAt,
          ...overrides,
        }),
      ).expect(201)
    ).body as { id: string; number: number };
  // 2026-03-01 23:30 in Nairobi is 20:30 UTC: that local day, whatever UTC says.
  const first = await made(atMain, '2026-03-01T23:30:00+03:00');
  const second = await made(atMain, '2026-03-02T09:00:00+03:00');
  const third = await made(atBranch, '2026-03-03T09:00:00+03:00');
  return { shop, branch, atMain, atBranch, first, second, third };
}

describe('GET /returns and /returns/{id}', () => {
  it('lists newest first, pages with a cursor and filters by local day, sale and location', async () => {
    const { shop, branch, atMain, first, second, third } = await shopWithReturns();
    const all = await http.get('/returns').set('Authorization', shop.manager.auth).expect(200);
    expect(idsOf(all.body)).toEqual([third.id, second.id, first.id]);
    expect([first.number, second.number, third.number]).toEqual([1, 2, 3]);

    const page1 = await http.get('/returns?limit=2').set('Authorization', shop.owner.auth);
    expect(idsOf(page1.body)).toEqual([third.id, second.id]);
    const page2 = await http
      .get(`/returns?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`)
      .set('Authorization', shop.owner.auth);
    expect(idsOf(page2.body)).toEqual([first.id]);
    expect(page2.body.nextCursor).toBeNull();

    const day = await http
      .get('/returns?from=2026-03-01&to=2026-03-01')
      .set('Authorization', shop.owner.auth);
    expect(idsOf(day.body)).toEqual([first.id]);
    const bySale = await http
      .get(`/returns?saleId=${atMain.id}`)
      .set('Authorization', shop.owner.auth);
    expect(idsOf(bySale.body)).toEqual([second.id, first.id]);
    const byLocation = await http
      .get(`/returns?locationId=${branch.id}`)
      .set('Authorization', shop.owner.auth);
    expect(idsOf(byLocation.body)).toEqual([third.id]);

    for (const bad of [
      'from=2026-02-30',
      'from=2026-03-02&to=2026-03-01',
      'limit=0',
      'cursor=%%%',
      'saleId=x',
    ]) {
      expectProblem(
        await http.get(`/returns?${bad}`).set('Authorization', shop.owner.auth),
        400,
        'VALIDATION_FAILED',
        bad,
      );
    }
  });

  it('keeps a manager to their assigned locations', async () => {
    const { shop, branch, first, third } = await shopWithReturns();
    await assign(http, shop.owner, shop.manager, [branch.id]).expect(200);
    const list = await http.get('/returns').set('Authorization', shop.manager.auth).expect(200);
    expect(idsOf(list.body)).toEqual([third.id]);
    expectProblem(
      await http.get(`/returns/${first.id}`).set('Authorization', shop.manager.auth),
      403,
      'FORBIDDEN',
    );
    await http.get(`/returns/${third.id}`).set('Authorization', shop.manager.auth).expect(200);
    const main = (
      await http.get('/locations').set('Authorization', shop.owner.auth)
    ).body.data.find((location: { isDefault: boolean }) => location.isDefault);
    expectProblem(
      await http.get(`/returns?locationId=${main.id}`).set('Authorization', shop.manager.auth),
      403,
      'FORBIDDEN',
    );
  });

  it('is manager+; another business sees 404 and none of them in its list', async () => {
    const { shop, first } = await shopWithReturns();
    const other = await createBusiness(deps);
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'get',
        path: `/returns/${first.id}`,
        allowed: ['owner', 'manager'],
        namesResource: true,
      },
    );
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'get',
        path: '/returns',
        allowed: ['owner', 'manager'],
        namesResource: false,
      },
    );
    const theirs = await http.get('/returns').set('Authorization', other.owner.auth).expect(200);
    expect(theirs.body.data).toEqual([]);
  });
});
