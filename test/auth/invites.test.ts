import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { invites, users } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import {
  auditRows,
  emailsTo,
  movableClock,
  PASSWORD,
  tokenOf,
  uniqueEmail,
} from '../helpers/auth.js';

const time = movableClock();
const { http, deps } = createTestApp({ clock: time.clock });

async function invite(auth: string, email: string, role: 'cashier' | 'manager' = 'cashier') {
  const response = await http.post('/invites').set('Authorization', auth).send({ email, role });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  const [mail] = await emailsTo(deps, 'invite', email);
  return { invite: response.body as { id: string }, token: tokenOf(mail!.payload.acceptUrl) };
}

const accept = (token: string, name = 'New Person') =>
  http.post('/invites/accept').send({ token, name, password: PASSWORD });

describe('POST /invites', () => {
  it('lets a manager invite cashiers but not managers, and refuses owner invites', async () => {
    const shop = await createBusiness(deps);
    const email = uniqueEmail();
    const managerInvite = await http
      .post('/invites')
      .set('Authorization', shop.manager.auth)
      .send({ email, role: 'manager' });
    expect(managerInvite.status).toBe(403);
    expect(await emailsTo(deps, 'invite', email)).toHaveLength(0);
    const ownerInvite = await http
      .post('/invites')
      .set('Authorization', shop.owner.auth)
      .send({ email, role: 'owner' });
    expect(ownerInvite.status).toBe(400);
    const { token } = await invite(shop.manager.auth, email, 'cashier');
    expect((await accept(token)).body.user.role).toBe('cashier');
  });

  it('answers 409 naming email when the email already has an account (any business)', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const response = await http
      .post('/invites')
      .set('Authorization', shop.owner.auth)
      .send({ email: other.cashier.email.toUpperCase(), role: 'cashier' });
    expect(response.status).toBe(409);
    expect(response.body.errors).toEqual([expect.objectContaining({ path: 'email' })]);
  });

  it('replaces a pending invite for the same email: only the newest link works', async () => {
    const shop = await createBusiness(deps);
    const email = uniqueEmail();
    const first = await invite(shop.owner.auth, email);
    const second = await invite(shop.owner.auth, email, 'manager');
    expect(await emailsTo(deps, 'invite', email)).toHaveLength(2);
    const stale = await accept(first.token);
    expect(stale.status).toBe(422);
    expect(stale.body.errors[0].path).toBe('token');
    const fresh = await accept(second.token);
    expect(fresh.status).toBe(201);
    expect(fresh.body.user.role).toBe('manager');
    const list = await http.get('/invites').set('Authorization', shop.owner.auth);
    expect(list.body.data.map((item: { status: string }) => item.status)).toEqual([
      'accepted',
      'revoked',
    ]);
  });
});

describe('POST /invites with Idempotency-Key', () => {
  it('replays the first answer for a retried request: one invite, one email', async () => {
    const shop = await createBusiness(deps);
    const email = uniqueEmail();
    const key = crypto.randomUUID();
    const send = () =>
      http
        .post('/invites')
        .set('Authorization', shop.owner.auth)
        .set('Idempotency-Key', key)
        .send({ email, role: 'cashier' });
    const first = await send();
    const retry = await send();
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await emailsTo(deps, 'invite', email)).toHaveLength(1);
  });
});

describe('POST /invites/accept', () => {
  it('is single use, even for concurrent accepts', async () => {
    const shop = await createBusiness(deps);
    const email = uniqueEmail();
    const { token } = await invite(shop.owner.auth, email);
    const responses = await Promise.all(Array.from({ length: 4 }, () => accept(token)));
    expect(responses.map((response) => response.status).sort()).toEqual([201, 422, 422, 422]);
    const created = await deps.db.select().from(users).where(eq(users.email, email));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ businessId: shop.id, role: 'cashier', status: 'active' });
    expect((await accept(token)).status).toBe(422);
  });

  it('refuses expired, revoked, unknown and malformed tokens with 422', async () => {
    const shop = await createBusiness(deps);
    const revoked = await invite(shop.owner.auth, uniqueEmail());
    expect(
      (await http.delete(`/invites/${revoked.invite.id}`).set('Authorization', shop.owner.auth))
        .status,
    ).toBe(204);
    const expiring = await invite(shop.owner.auth, uniqueEmail());
    time.advance(7 * 86_400_000 + 1000);
    for (const token of [revoked.token, expiring.token, 'z'.repeat(43), 'short']) {
      const response = await accept(token);
      expect(response.status).toBe(422);
      expect(response.body.code).toBe('UNPROCESSABLE');
    }
    const expired = await http.get('/invites?status=expired').set('Authorization', shop.owner.auth);
    expect(expired.body.data.map((item: { id: string }) => item.id)).toEqual([expiring.invite.id]);
  });
});

describe('DELETE /invites/{id}', () => {
  it('revokes (idempotently), refuses accepted invites, and lets managers revoke cashier invites only', async () => {
    const shop = await createBusiness(deps);
    const cashierInvite = await invite(shop.owner.auth, uniqueEmail());
    const managerInvite = await invite(shop.owner.auth, uniqueEmail(), 'manager');
    expect(
      (
        await http
          .delete(`/invites/${managerInvite.invite.id}`)
          .set('Authorization', shop.manager.auth)
      ).status,
    ).toBe(403);
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await http
        .delete(`/invites/${cashierInvite.invite.id}`)
        .set('Authorization', shop.manager.auth);
      expect(response.status).toBe(204);
    }
    expect((await accept(managerInvite.token)).status).toBe(201);
    const acceptedDelete = await http
      .delete(`/invites/${managerInvite.invite.id}`)
      .set('Authorization', shop.owner.auth);
    expect(acceptedDelete.status).toBe(422);
    const [row] = await deps.db
      .select()
      .from(invites)
      .where(eq(invites.id, managerInvite.invite.id));
    expect(row!.revokedAt).toBeNull();
    const actions = (await auditRows(deps, shop.id)).map((entry) => entry.action);
    expect(actions.filter((action) => action === 'invite.revoked')).toHaveLength(1);
    expect(actions.filter((action) => action === 'invite.created')).toHaveLength(2);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const shop = await createBusiness(deps);
    expect(
      (
        await http
          .delete('/invites/01900000-0000-7000-8000-000000000000')
          .set('Authorization', shop.owner.auth)
      ).status,
    ).toBe(404);
    expect((await http.delete('/invites/42').set('Authorization', shop.owner.auth)).status).toBe(
      400,
    );
  });
});

describe('GET /invites', () => {
  it('pages newest first with an opaque cursor; bad cursors and limits are 400', async () => {
    const shop = await createBusiness(deps);
    const ids: string[] = [];
    for (let index = 0; index < 3; index++)
      ids.push((await invite(shop.owner.auth, uniqueEmail())).invite.id);
    const first = await http.get('/invites?limit=2').set('Authorization', shop.owner.auth);
    expect(first.body.data.map((item: { id: string }) => item.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await http
      .get(`/invites?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`)
      .set('Authorization', shop.owner.auth);
    expect(second.body).toEqual({
      data: [expect.objectContaining({ id: ids[0] })],
      nextCursor: null,
    });
    expect(second.body.data[0]).not.toHaveProperty('tokenHash');
    for (const query of [
      'limit=0',
      'limit=-1',
      'limit=abc',
      'cursor=not-a-cursor',
      'status=nope',
    ]) {
      const response = await http.get(`/invites?${query}`).set('Authorization', shop.owner.auth);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
    }
    expect(
      (await http.get('/invites?limit=100000').set('Authorization', shop.owner.auth)).status,
    ).toBe(200);
  });
});
