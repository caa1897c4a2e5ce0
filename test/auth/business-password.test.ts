import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { outbox, passwordResets, users } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import {
  auditRows,
  emailsTo,
  movableClock,
  PASSWORD,
  registerOwner,
  tokenOf,
  uniqueEmail,
} from '../helpers/auth.js';

const time = movableClock();
const { http, deps } = createTestApp({ clock: time.clock });

describe('/business', () => {
  it('PATCH changes settings (owner), validates them, and audits the change', async () => {
    const shop = await createBusiness(deps);
    const response = await http.patch('/business').set('Authorization', shop.owner.auth).send({
      name: 'Duka Kubwa',
      phone: '+254712345678',
      timezone: 'Africa/Kampala',
      lowStockEmails: false,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: shop.id,
      name: 'Duka Kubwa',
      phone: '+254712345678',
      timezone: 'Africa/Kampala',
      lowStockEmails: false,
      currency: 'KES',
    });
    expect((await http.get('/business').set('Authorization', shop.cashier.auth)).body).toEqual(
      response.body,
    );
    for (const body of [
      { timezone: 'Mars/Olympus' },
      { name: '' },
      { phone: 'abc' },
      { lowStockEmails: 'no' },
    ]) {
      const bad = await http.patch('/business').set('Authorization', shop.owner.auth).send(body);
      expect({ body, status: bad.status }).toEqual({ body, status: 400 });
    }
    const [audit] = (await auditRows(deps, shop.id)).filter(
      (row) => row.action === 'business.updated',
    );
    expect(audit!.details).toMatchObject({ name: { from: shop.name, to: 'Duka Kubwa' } });
  });

  it('GET /business/subscription derives the status from plan and period end', async () => {
    const day = 86_400_000;
    const now = time.clock().getTime();
    const cases = [
      [
        { subscriptionPlan: 'monthly' as const, currentPeriodEnd: new Date(now + 5 * day) },
        'active',
        'monthly',
      ],
      [
        { subscriptionPlan: 'annual' as const, currentPeriodEnd: new Date(now - 2 * day) },
        'past_due',
        'annual',
      ],
      [{ subscriptionPlan: null, currentPeriodEnd: new Date(now - 4 * day) }, 'expired', null],
    ] as const;
    for (const [overrides, status, plan] of cases) {
      const shop = await createBusiness(deps, overrides);
      const response = await http
        .get('/business/subscription')
        .set('Authorization', shop.cashier.auth);
      expect(response.body).toEqual({
        plan,
        status,
        currentPeriodEnd: overrides.currentPeriodEnd.toISOString(),
      });
    }
  });
});

describe('forgot and reset password', () => {
  it('always answers 202 and writes an email only for an active account', async () => {
    const owner = await registerOwner(http);
    const unknown = uniqueEmail('nobody');
    const before = await deps.db.select().from(outbox);
    const responses = [
      await http.post('/auth/password/forgot').send({ email: unknown }),
      await http.post('/auth/password/forgot').send({ email: owner.user.email.toUpperCase() }),
    ];
    expect(responses.map((response) => response.status)).toEqual([202, 202]);
    expect(responses[0]!.body).toEqual(responses[1]!.body);
    expect(await emailsTo(deps, 'password-reset', unknown)).toHaveLength(0);
    const [mail] = await emailsTo(deps, 'password-reset', owner.user.email);
    expect(mail).toMatchObject({ businessId: owner.business.id, kind: 'email' });
    expect(
      new Date(String(mail!.payload.expiresAt)).getTime() - time.clock().getTime(),
    ).toBeGreaterThan(3500_000);
    const after = await deps.db.select().from(outbox);
    expect(after.length - before.length).toBeGreaterThanOrEqual(1);

    // A disabled account gets no email either.
    const shop = await createBusiness(deps);
    await deps.db.update(users).set({ status: 'disabled' }).where(eq(users.id, shop.cashier.id));
    expect(
      (await http.post('/auth/password/forgot').send({ email: shop.cashier.email })).status,
    ).toBe(202);
    expect(await emailsTo(deps, 'password-reset', shop.cashier.email)).toHaveLength(0);
  });

  it('sends at most three reset emails an hour per account, still answering 202', async () => {
    const owner = await registerOwner(http);
    for (let attempt = 0; attempt < 5; attempt++) {
      await http.post('/auth/password/forgot').send({ email: owner.user.email }).expect(202);
    }
    expect(await emailsTo(deps, 'password-reset', owner.user.email)).toHaveLength(3);
    time.advance(3600_000 + 1000);
    await http.post('/auth/password/forgot').send({ email: owner.user.email }).expect(202);
    expect(await emailsTo(deps, 'password-reset', owner.user.email)).toHaveLength(4);
  });

  it('stores only the token hash, and the link works exactly once, even concurrently', async () => {
    const owner = await registerOwner(http);
    await http.post('/auth/password/forgot').send({ email: owner.user.email }).expect(202);
    const token = tokenOf(
      (await emailsTo(deps, 'password-reset', owner.user.email))[0]!.payload.resetUrl,
    );
    const [row] = await deps.db
      .select()
      .from(passwordResets)
      .where(eq(passwordResets.userId, owner.user.id));
    expect(row!.tokenHash).not.toContain(token);
    const responses = await Promise.all(
      Array.from({ length: 3 }, (_, index) =>
        http.post('/auth/password/reset').send({ token, password: `new-password-${index}-long` }),
      ),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([204, 422, 422]);
    const winner = responses.findIndex((response) => response.status === 204);
    expect(
      (
        await http
          .post('/auth/login')
          .send({ email: owner.user.email, password: `new-password-${winner}-long` })
      ).status,
    ).toBe(200);
    const audit = await auditRows(deps, owner.business.id);
    expect(audit.filter((entry) => entry.action === 'user.password_reset')).toHaveLength(1);
  });

  it('refuses an expired link, and a newer reset spends older links', async () => {
    const owner = await registerOwner(http);
    await http.post('/auth/password/forgot').send({ email: owner.user.email }).expect(202);
    const old = tokenOf(
      (await emailsTo(deps, 'password-reset', owner.user.email))[0]!.payload.resetUrl,
    );
    time.advance(3600_000 + 1000);
    const expired = await http
      .post('/auth/password/reset')
      .send({ token: old, password: 'fresh-password-1' });
    expect(expired.status).toBe(422);
    expect(expired.body.errors[0].path).toBe('token');

    await http.post('/auth/password/forgot').send({ email: owner.user.email }).expect(202);
    await http.post('/auth/password/forgot').send({ email: owner.user.email }).expect(202);
    const [newest, older] = await emailsTo(deps, 'password-reset', owner.user.email);
    await http
      .post('/auth/password/reset')
      .send({ token: tokenOf(newest!.payload.resetUrl), password: 'fresh-password-2' })
      .expect(204);
    expect(
      (
        await http
          .post('/auth/password/reset')
          .send({ token: tokenOf(older!.payload.resetUrl), password: 'fresh-password-3' })
      ).status,
    ).toBe(422);
    expect(
      (await http.post('/auth/login').send({ email: owner.user.email, password: PASSWORD })).status,
    ).toBe(401);
  });
});
