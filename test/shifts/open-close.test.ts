import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { assign, openLocation } from '../helpers/locations.js';
import { expectProblem } from '../helpers/problem.js';
import { defaultLocationId, insertProduct, saleBody } from '../helpers/sales-factories.js';
import {
  cashMovementBody,
  closeBody,
  closeShift,
  moveCash,
  openShift,
  shiftBody,
  shiftReport,
} from '../helpers/shifts.js';

const { http, deps } = createTestApp();

async function countRows(table: 'shifts' | 'shift_cash_movements', businessId: string) {
  const result = await deps.db.execute<{ count: number }>(
    sql`select count(*)::int as count from ${sql.identifier(table)} where business_id = ${businessId}`,
  );
  return result.rows[0]!.count;
}

describe('POST /shifts', () => {
  it('opens once: 201 with Location; same id and body → 200 replayed; another body → 422', async () => {
    const shop = await createBusiness(deps);
    const body = shiftBody();
    const first = await openShift(http, shop.cashier, body).expect(201);
    expect(first.headers.location).toBe(`/shifts/${body.id as string}`);
    expect(first.body).toMatchObject({
      id: body.id,
      register: body.register,
      status: 'open',
      openingFloat: 500_000,
      cashierId: shop.cashier.id,
      locationId: await defaultLocationId(deps, shop.id),
      expectedCash: null,
      countedCash: null,
      difference: null,
      closedAt: null,
    });
    // Same instant written with another offset, keys in another order: the same body.
    const sameInstant = new Date(Date.parse(body.openedAt as string))
      .toISOString()
      .replace('Z', '+00:00');
    const replay = await openShift(http, shop.cashier, {
      openingFloat: body.openingFloat,
      openedAt: sameInstant,
      register: body.register,
      id: (body.id as string).toUpperCase(),
    }).expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);

    const reused = await openShift(http, shop.cashier, { ...body, openingFloat: 1 });
    expectProblem(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
    // Another user replaying the till's id is a reuse, never an answer with this shift.
    expectProblem(await openShift(http, shop.cashier2, body), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await countRows('shifts', shop.id)).toBe(1);
  });

  it('a second open shift on the register → 409 naming register (case-insensitive); another location or a closed shift frees it', async () => {
    const shop = await createBusiness(deps);
    const first = shiftBody({ register: 'Till 1' });
    await openShift(http, shop.cashier, first).expect(201);
    const second = await openShift(http, shop.cashier2, shiftBody({ register: 'till 1' }));
    expectProblem(second, 409, 'CONFLICT');
    expect(second.body.errors).toEqual([expect.objectContaining({ path: 'register' })]);

    // Two branches may each have a "Till 1".
    const branch = await openLocation(http, shop.owner);
    await openShift(
      http,
      shop.cashier2,
      shiftBody({ register: 'Till 1', locationId: branch.id }),
    ).expect(201);

    await closeShift(http, shop.cashier, first.id as string, closeBody(500_000)).expect(200);
    await openShift(http, shop.cashier2, shiftBody({ register: 'TILL 1' })).expect(201);
  });

  it('concurrent opens on one register: exactly one shift opens, the rest are 409', async () => {
    const shop = await createBusiness(deps);
    const bodies = Array.from({ length: 8 }, () => shiftBody({ register: 'Front' }));
    const responses = await Promise.all(
      bodies.map((body, index) => openShift(http, index % 2 ? shop.cashier : shop.cashier2, body)),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([
      201, 409, 409, 409, 409, 409, 409, 409,
    ]);
    expect(await countRows('shifts', shop.id)).toBe(1);
  });

  it('concurrent identical opens: one shift, every answer the same shift', async () => {
    const shop = await createBusiness(deps);
    const body = shiftBody();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => openShift(http, shop.cashier, body)),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([
      200, 200, 200, 200, 200, 201,
    ]);
    expect(new Set(responses.map((response) => response.body.id as string))).toEqual(
      new Set([body.id]),
    );
    expect(await countRows('shifts', shop.id)).toBe(1);
  });

  it('the location: the cashier’s only one by default; outside the assignment 403; unknown, another business’s or archived 422', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const elsewhere = await openLocation(http, shop.owner);
    await assign(http, shop.owner, shop.cashier, [branch.id]).expect(200);

    const atBranch = await openShift(http, shop.cashier, shiftBody()).expect(201);
    expect(atBranch.body.locationId).toBe(branch.id);
    expectProblem(
      await openShift(http, shop.cashier, shiftBody({ locationId: elsewhere.id })),
      403,
      'FORBIDDEN',
    );
    const foreign = await defaultLocationId(deps, other.id);
    for (const locationId of [randomUUID(), foreign]) {
      const response = await openShift(http, shop.owner, shiftBody({ locationId }));
      expectProblem(response, 422, 'UNPROCESSABLE');
      expect(response.body.errors).toEqual([expect.objectContaining({ path: 'locationId' })]);
      expect(JSON.stringify(response.body)).not.toContain(other.id);
    }
    await http
      .delete(`/locations/${elsewhere.id}`)
      .set('Authorization', shop.owner.auth)
      .expect(204);
    expectProblem(
      await openShift(http, shop.owner, shiftBody({ locationId: elsewhere.id })),
      422,
      'UNPROCESSABLE',
    );
    expect(await countRows('shifts', shop.id)).toBe(1);
  });

  it('openedAt more than 5 minutes ahead → 422; bad bodies → 400', async () => {
    const shop = await createBusiness(deps);
    const future = new Date(Date.now() + 10 * 60_000).toISOString();
    expectProblem(
      await openShift(http, shop.cashier, shiftBody({ openedAt: future })),
      422,
      'UNPROCESSABLE',
    );
    for (const bad of [
      { openingFloat: -1 },
      { openingFloat: 1.5 },
      { openingFloat: '100' },
      { register: '' },
      { register: 'x'.repeat(65) },
      { register: 'Till\u00001' },
      { id: 'not-a-uuid' },
      { cashierId: shop.cashier2.id },
    ]) {
      expectProblem(await openShift(http, shop.cashier, shiftBody(bad)), 400, 'VALIDATION_FAILED');
    }
    expect(await countRows('shifts', shop.id)).toBe(0);
  });
});

describe('POST /shifts/{id}/cash-movements', () => {
  it('records once per clientRequestId: 201, replay 200, another body 422; a closed shift takes none', async () => {
    const shop = await createBusiness(deps);
    const shift = shiftBody();
    await openShift(http, shop.cashier, shift).expect(201);
    const id = shift.id as string;
    const body = cashMovementBody({ type: 'pay_in', amount: 10_000 });
    const first = await moveCash(http, shop.cashier, id, body).expect(201);
    expect(first.body).toMatchObject({
      shiftId: id,
      type: 'pay_in',
      amount: 10_000,
      note: 'Milk for the shop',
      createdBy: shop.cashier.id,
    });
    const replay = await moveCash(http, shop.cashier, id, body).expect(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expectProblem(
      await moveCash(http, shop.cashier, id, { ...body, amount: 10_001 }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );

    await closeShift(http, shop.cashier, id, closeBody(510_000)).expect(200);
    const late = await moveCash(http, shop.cashier, id, cashMovementBody());
    expectProblem(late, 422, 'UNPROCESSABLE');
    // A replay of what was recorded before the close still answers it.
    await moveCash(http, shop.cashier, id, body).expect(200);
    expect(await countRows('shift_cash_movements', shop.id)).toBe(1);
  });

  it('concurrent identical movements: one row; unknown shift 404; bad bodies 400', async () => {
    const shop = await createBusiness(deps);
    const shift = shiftBody();
    await openShift(http, shop.cashier, shift).expect(201);
    const body = cashMovementBody();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => moveCash(http, shop.cashier, shift.id as string, body)),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([
      200, 200, 200, 200, 200, 201,
    ]);
    expect(await countRows('shift_cash_movements', shop.id)).toBe(1);
    expectProblem(
      await moveCash(http, shop.cashier, randomUUID(), cashMovementBody()),
      404,
      'NOT_FOUND',
    );
    for (const bad of [{ amount: 0 }, { type: 'refund' }, { note: '' }, { note: undefined }]) {
      expectProblem(
        await moveCash(http, shop.cashier, shift.id as string, cashMovementBody(bad)),
        400,
        'VALIDATION_FAILED',
      );
    }
  });
});

describe('POST /shifts/{id}/close', () => {
  it('closes with expected, counted and difference; the same close again → the same shift; another → 422', async () => {
    const shop = await createBusiness(deps);
    const shift = shiftBody({ openingFloat: 100_000 });
    const id = shift.id as string;
    await openShift(http, shop.cashier, shift).expect(201);
    await moveCash(
      http,
      shop.cashier,
      id,
      cashMovementBody({ type: 'pay_out', amount: 30_000 }),
    ).expect(201);
    const body = closeBody(69_000, { note: 'short by 10' });
    const closed = await closeShift(http, shop.cashier, id, body).expect(200);
    expect(closed.body).toMatchObject({
      status: 'closed',
      expectedCash: 70_000,
      countedCash: 69_000,
      difference: -1_000,
      closedBy: shop.cashier.id,
      closedAt: body.closedAt,
      note: 'short by 10',
    });
    const again = await closeShift(http, shop.cashier, id, body).expect(200);
    expect(again.body).toEqual(closed.body);
    expectProblem(
      await closeShift(http, shop.cashier, id, { ...body, countedCash: 70_000 }),
      422,
      'UNPROCESSABLE',
    );
    expect((await http.get(`/shifts/${id}`).set('Authorization', shop.cashier.auth)).body).toEqual(
      closed.body,
    );
  });

  it('concurrent closes with different counts: exactly one wins, the shift holds its count', async () => {
    const shop = await createBusiness(deps);
    const shift = shiftBody();
    await openShift(http, shop.cashier, shift).expect(201);
    const closedAt = new Date().toISOString();
    const counts = [400_000, 450_000, 500_000, 550_000, 600_000, 650_000];
    const responses = await Promise.all(
      counts.map((countedCash) =>
        closeShift(http, shop.cashier, shift.id as string, { closedAt, countedCash }),
      ),
    );
    const winners = responses.filter((response) => response.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of responses.filter((response) => response.status !== 200))
      expectProblem(loser, 422, 'UNPROCESSABLE');
    const stored = await http
      .get(`/shifts/${shift.id as string}`)
      .set('Authorization', shop.manager.auth);
    expect(stored.body.countedCash).toBe(winners[0]!.body.countedCash);
  });

  it('closedAt before openedAt or in the future → 422, the shift stays open', async () => {
    const shop = await createBusiness(deps);
    const shift = shiftBody();
    await openShift(http, shop.cashier, shift).expect(201);
    const id = shift.id as string;
    const before = new Date(Date.parse(shift.openedAt as string) - 1).toISOString();
    const future = new Date(Date.now() + 10 * 60_000).toISOString();
    for (const closedAt of [before, future]) {
      expectProblem(
        await closeShift(http, shop.cashier, id, { closedAt, countedCash: 1 }),
        422,
        'UNPROCESSABLE',
      );
    }
    const read = await http.get(`/shifts/${id}`).set('Authorization', shop.cashier.auth);
    expect(read.body.status).toBe('open');
  });
});

describe('who may act on a shift', () => {
  it('cashiers act on and read their own (another cashier’s is 404); managers and owners read all and may close any', async () => {
    const shop = await createBusiness(deps);
    const shift = shiftBody();
    const id = shift.id as string;
    await openShift(http, shop.cashier, shift).expect(201);

    for (const response of [
      await http.get(`/shifts/${id}`).set('Authorization', shop.cashier2.auth),
      await shiftReport(http, shop.cashier2, id),
      await moveCash(http, shop.cashier2, id, cashMovementBody()),
      await closeShift(http, shop.cashier2, id, closeBody(0)),
    ]) {
      expectProblem(response, 404, 'NOT_FOUND');
    }
    const listed = await http.get('/shifts').set('Authorization', shop.cashier2.auth).expect(200);
    expect(listed.body.data).toEqual([]);
    expect(await countRows('shift_cash_movements', shop.id)).toBe(0);

    for (const user of [shop.manager, shop.owner]) {
      await http.get(`/shifts/${id}`).set('Authorization', user.auth).expect(200);
      await shiftReport(http, user, id).expect(200);
    }
    const closed = await closeShift(http, shop.manager, id, closeBody(500_000)).expect(200);
    expect(closed.body).toMatchObject({ cashierId: shop.cashier.id, closedBy: shop.manager.id });
  });

  it('a manager assigned to one branch cannot read a shift at another (403)', async () => {
    const shop = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const shift = shiftBody();
    await openShift(http, shop.cashier, shift).expect(201);
    await assign(http, shop.owner, shop.manager, [branch.id]).expect(200);
    expectProblem(
      await http.get(`/shifts/${shift.id as string}`).set('Authorization', shop.manager.auth),
      403,
      'FORBIDDEN',
    );
    const listed = await http.get('/shifts').set('Authorization', shop.manager.auth).expect(200);
    expect(listed.body.data).toEqual([]);
  });

  it('every shift route: 401 without a token; another business’s shift → 404', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const shift = shiftBody();
    const id = shift.id as string;
    await openShift(http, shop.cashier, shift).expect(201);
    const routes = [
      { method: 'get' as const, path: `/shifts/${id}`, namesResource: true },
      { method: 'get' as const, path: `/shifts/${id}/report`, namesResource: true },
      {
        method: 'post' as const,
        path: `/shifts/${id}/cash-movements`,
        body: cashMovementBody(),
        namesResource: true,
      },
      {
        method: 'post' as const,
        path: `/shifts/${id}/close`,
        body: closeBody(1),
        namesResource: true,
      },
      { method: 'get' as const, path: '/shifts', namesResource: false },
      { method: 'post' as const, path: '/shifts', body: shiftBody(), namesResource: false },
    ];
    for (const route of routes) {
      await expectRouteGuards(
        http,
        { owner: shop, other },
        { ...route, allowed: ['owner', 'manager', 'cashier'] },
      );
    }
    const read = await http.get(`/shifts/${id}`).set('Authorization', shop.cashier.auth);
    expect(read.body.status).toBe('open');
  });
});

describe('GET /shifts', () => {
  it('filters by status, register, location and days; pages newest first', async () => {
    const shop = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const day = (iso: string) => new Date(iso).toISOString();
    const bodies = [
      shiftBody({ register: 'A', openedAt: day('2026-11-01T06:00:00+03:00') }),
      shiftBody({ register: 'B', openedAt: day('2026-11-02T06:00:00+03:00') }),
      shiftBody({ register: 'C', openedAt: day('2026-11-02T23:30:00+03:00') }),
      shiftBody({
        register: 'A',
        openedAt: day('2026-11-03T06:00:00+03:00'),
        locationId: branch.id,
      }),
    ];
    for (const body of bodies) await openShift(http, shop.manager, body).expect(201);
    await closeShift(http, shop.manager, bodies[0]!.id as string, closeBody(0)).expect(200);
    const ids = async (query: string) => {
      const response = await http
        .get(`/shifts${query}`)
        .set('Authorization', shop.owner.auth)
        .expect(200);
      return (response.body.data as { id: string }[]).map((shift) => shift.id);
    };
    const [a, b, c, d] = bodies.map((body) => body.id as string);
    expect(await ids('')).toEqual([d, c, b, a]);
    expect(await ids('?status=closed')).toEqual([a]);
    expect(await ids('?status=open')).toEqual([d, c, b]);
    expect(await ids('?register=a')).toEqual([d, a]);
    expect(await ids(`?locationId=${branch.id}`)).toEqual([d]);
    expect(await ids('?from=2026-11-02&to=2026-11-02')).toEqual([c, b]);

    const first = await http
      .get('/shifts?limit=3')
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(first.body.data.map((shift: { id: string }) => shift.id)).toEqual([d, c, b]);
    const next = await http
      .get(`/shifts?limit=3&cursor=${first.body.nextCursor as string}`)
      .set('Authorization', shop.owner.auth)
      .expect(200);
    expect(next.body).toEqual({ data: [expect.objectContaining({ id: a })], nextCursor: null });
    expectProblem(
      await http.get('/shifts?cursor=garbage').set('Authorization', shop.owner.auth),
      400,
      'VALIDATION_FAILED',
    );
  });
});

describe('archiving a location with an open shift', () => {
  it('→ 422 while the shift is open; 204 once it is closed', async () => {
    const shop = await createBusiness(deps);
    const branch = await openLocation(http, shop.owner);
    const shift = shiftBody({ locationId: branch.id });
    await openShift(http, shop.cashier, shift).expect(201);
    const refused = await http
      .delete(`/locations/${branch.id}`)
      .set('Authorization', shop.owner.auth);
    expectProblem(refused, 422, 'UNPROCESSABLE');
    expect(refused.body.errors).toEqual([expect.objectContaining({ code: 'open_shift' })]);
    await closeShift(http, shop.cashier, shift.id as string, closeBody(500_000)).expect(200);
    await http.delete(`/locations/${branch.id}`).set('Authorization', shop.owner.auth).expect(204);
  });

  it('an archive racing shift opens never leaves an archived location with an open shift', async () => {
    const shop = await createBusiness(deps);
    for (let round = 0; round < 5; round++) {
      const branch = await openLocation(http, shop.owner);
      const [opened, archived] = await Promise.all([
        openShift(http, shop.owner, shiftBody({ locationId: branch.id })),
        http.delete(`/locations/${branch.id}`).set('Authorization', shop.owner.auth),
      ]);
      const both = [opened.status, archived.status];
      // Either the shift opened first (archive refused) or the archive did (open refused).
      expect([
        [201, 422],
        [422, 204],
      ]).toContainEqual(both);
    }
  });
});

describe('sales take shiftId', () => {
  it('the sale keeps shiftId (any UUID, unknown too) and replays with it', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const shiftId = randomUUID();
    const body = saleBody([{ product }], { shiftId: shiftId.toUpperCase() });
    const created = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
    expect(created.status, created.text).toBe(201);
    expect(created.body.shiftId).toBe(shiftId);
    const replay = await http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(created.body);
    const read = await http
      .get(`/sales/${created.body.id as string}`)
      .set('Authorization', shop.cashier.auth);
    expect(read.body.shiftId).toBe(shiftId);
  });
});
