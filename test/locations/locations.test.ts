import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problem.js';
import { defaultLocationId } from '../helpers/sales-factories.js';
import { emailsTo, PASSWORD, tokenOf } from '../helpers/auth.js';
import { assign, openLocation } from '../helpers/locations.js';

const { http, deps } = createTestApp();

describe('locations', () => {
  it('registration makes Main, the default; a new business lists exactly it', async () => {
    const email = `owner-${randomUUID()}@example.test`;
    const registered = await http
      .post('/auth/register')
      .send({ businessName: 'Duka', name: 'Wanjiku', email, password: 'correct-horse-battery' })
      .expect(201);
    const list = await http
      .get('/locations')
      .set('Authorization', `Bearer ${registered.body.accessToken as string}`)
      .expect(200);
    expect(list.body).toEqual({
      data: [
        {
          id: expect.any(String),
          name: 'Main',
          address: null,
          phone: null,
          etimsBranchId: '00',
          isDefault: true,
          archived: false,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      ],
      nextCursor: null,
    });
  });

  it('owner opens, renames and archives a branch; names unique among open ones (409)', async () => {
    const shop = await createBusiness(deps);
    const created = await http
      .post('/locations')
      .set('Authorization', shop.owner.auth)
      .send({
        name: 'Westlands',
        address: 'Sarit Centre',
        phone: '0712345678',
        etimsBranchId: '01',
      })
      .expect(201);
    expect(created.headers.location).toBe(`/locations/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'Westlands',
      isDefault: false,
      etimsBranchId: '01',
    });

    const clash = await http
      .post('/locations')
      .set('Authorization', shop.owner.auth)
      .send({ name: 'westlands' });
    expectProblem(clash, 409, 'CONFLICT');
    expect(clash.body.errors[0].path).toBe('name');

    const renamed = await http
      .patch(`/locations/${created.body.id}`)
      .set('Authorization', shop.owner.auth)
      .send({ name: 'Westlands Mall', address: null })
      .expect(200);
    expect(renamed.body).toMatchObject({ name: 'Westlands Mall', address: null });

    await http
      .delete(`/locations/${created.body.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(204);
    await http
      .delete(`/locations/${created.body.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(204);
    const open = await http.get('/locations').set('Authorization', shop.owner.auth).expect(200);
    expect(open.body.data.map((l: { name: string }) => l.name)).toEqual(['Main']);
    const all = await http
      .get('/locations?includeArchived=true')
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(all.body.data).toHaveLength(2);
    // An archived name is free again.
    await openLocation(http, shop.owner, 'Westlands Mall');
  });

  it('the default location cannot be archived (422); other business → 404; manager → 403', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    expectProblem(
      await http.delete(`/locations/${main}`).set('Authorization', shop.owner.auth),
      422,
      'UNPROCESSABLE',
    );
    for (const request of [
      http.get(`/locations/${main}`),
      http.patch(`/locations/${main}`).send({ name: 'Mine now' }),
      http.delete(`/locations/${main}`),
    ]) {
      expectProblem(await request.set('Authorization', other.owner.auth), 404, 'NOT_FOUND');
    }
    expectProblem(
      await http.post('/locations').set('Authorization', shop.manager.auth).send({ name: 'X' }),
      403,
      'FORBIDDEN',
    );
    // Every role reads the branches (a till picks where it is).
    await http.get('/locations').set('Authorization', shop.cashier.auth).expect(200);
  });

  it('bad bodies: unknown fields, empty names, bad eTIMS ids → 400', async () => {
    const shop = await createBusiness(deps);
    for (const body of [
      { name: 'A', isDefault: true },
      { name: '' },
      { name: 'A', etimsBranchId: '1' },
      { name: 'x'.repeat(101) },
      { name: 7 },
    ]) {
      expectProblem(
        await http.post('/locations').set('Authorization', shop.owner.auth).send(body),
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it('users carry locationIds: owner sets them (PATCH /users/:id), unknown or archived → 422', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const assigned = await assign(http, shop.owner, shop.cashier, [branch.id]).expect(200);
    expect(assigned.body.locationIds).toEqual([branch.id]);
    const theirs = await defaultLocationId(deps, other.id);
    const refused = await assign(http, shop.owner, shop.cashier, [branch.id, theirs]);
    expectProblem(refused, 422, 'UNPROCESSABLE');
    expect(refused.body.errors[0].path).toBe('locationIds.1');
    expectProblem(
      await assign(http, shop.owner, shop.cashier, [branch.id, branch.id]),
      400,
      'VALIDATION_FAILED',
    );
    const archived = await openLocation(http, shop.owner);
    await http.delete(`/locations/${archived.id}`).set('Authorization', shop.owner.auth);
    expectProblem(
      await assign(http, shop.owner, shop.cashier, [archived.id]),
      422,
      'UNPROCESSABLE',
    );
    const users = await http.get('/users').set('Authorization', shop.owner.auth).expect(200);
    const cashier = users.body.data.find((u: { id: string }) => u.id === shop.cashier.id);
    expect(cashier.locationIds).toEqual([branch.id]);
  });

  it('invites may set locationIds; the accepted user has them; a restricted manager hands out only theirs', async () => {
    const shop = await createBusiness(deps);
    const a = await openLocation(http, shop.owner);
    const b = await openLocation(http, shop.owner);
    await assign(http, shop.owner, shop.manager, [a.id]).expect(200);

    const outside = await http
      .post('/invites')
      .set('Authorization', shop.manager.auth)
      .send({ email: `c-${randomUUID()}@example.test`, role: 'cashier', locationIds: [b.id] });
    expectProblem(outside, 403, 'FORBIDDEN');
    const defaulted = await http
      .post('/invites')
      .set('Authorization', shop.manager.auth)
      .send({ email: `c-${randomUUID()}@example.test`, role: 'cashier' })
      .expect(201);
    expect(defaulted.body.locationIds).toEqual([a.id]);

    const email = `c-${randomUUID()}@example.test`;
    const invited = await http
      .post('/invites')
      .set('Authorization', shop.owner.auth)
      .send({ email, role: 'cashier', locationIds: [b.id] })
      .expect(201);
    expect(invited.body.locationIds).toEqual([b.id]);
    const [mail] = await emailsTo(deps, 'invite', email);
    const accepted = await http
      .post('/invites/accept')
      .send({ token: tokenOf(mail!.payload.acceptUrl), name: 'New', password: PASSWORD })
      .expect(201);
    expect(accepted.body.user.locationIds).toEqual([b.id]);
  });
});
