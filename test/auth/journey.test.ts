import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { authSessions, businesses, passwordResets } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import {
  auditRows,
  bearer,
  emailsTo,
  PASSWORD,
  registerOwner,
  tokenOf,
  uniqueEmail,
  type AuthBody,
} from '../helpers/auth.js';

const { http, deps, config } = createTestApp();

describe('the whole journey through HTTP', () => {
  it('register → login → refresh → invite → accept → permissions → disable → reset', async () => {
    // Register: owner of a new business on a 14-day trial.
    const email = uniqueEmail('owner');
    const registered = await registerOwner(http, {
      email: email.toUpperCase(),
      businessName: 'Duka la Mama',
      phone: '254712345678',
    });
    expect(registered).toMatchObject({
      user: { email, role: 'owner', status: 'active' },
      business: { name: 'Duka la Mama', currency: 'KES', timezone: 'Africa/Nairobi' },
      expiresIn: 900,
    });
    expect(registered.user).not.toHaveProperty('passwordHash');
    const businessId = registered.business.id;
    const [business] = await deps.db.select().from(businesses).where(eq(businesses.id, businessId));
    const trialDays =
      (business!.currentPeriodEnd.getTime() - business!.createdAt.getTime()) / 86_400_000;
    expect(trialDays).toBe(14);
    const subscription = await http
      .get('/business/subscription')
      .set('Authorization', bearer(registered));
    expect(subscription.body).toEqual({
      plan: null,
      status: 'trialing',
      currentPeriodEnd: business!.currentPeriodEnd.toISOString(),
    });

    // Login (email case does not matter) and refresh.
    const login = await http
      .post('/auth/login')
      .send({ email: email.toUpperCase(), password: PASSWORD });
    expect(login.status).toBe(200);
    const owner = login.body as AuthBody;
    expect(owner.user.id).toBe(registered.user.id);
    expect(login.headers['cache-control']).toBe('no-store');
    const refreshed = await http.post('/auth/refresh').send({ refreshToken: owner.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(owner.refreshToken);
    const ownerAuth = bearer(refreshed.body);
    expect((await http.get('/me').set('Authorization', ownerAuth)).body.user.id).toBe(
      registered.user.id,
    );

    // Invite a cashier: the email is in the outbox with a link carrying the token.
    const cashierEmail = uniqueEmail('cashier');
    const invite = await http
      .post('/invites')
      .set('Authorization', ownerAuth)
      .send({ email: cashierEmail, role: 'cashier' });
    expect(invite.status).toBe(201);
    expect(invite.headers.location).toBe(`/invites/${invite.body.id}`);
    expect(invite.body).toMatchObject({ email: cashierEmail, role: 'cashier', status: 'pending' });
    const [inviteEmail] = await emailsTo(deps, 'invite', cashierEmail);
    expect(inviteEmail).toMatchObject({ businessId, kind: 'email', type: 'invite' });
    expect(inviteEmail!.payload).toMatchObject({
      to: cashierEmail,
      businessName: 'Duka la Mama',
      inviterName: 'Wanjiku Owner',
      role: 'cashier',
      expiresAt: invite.body.expiresAt,
    });
    const acceptUrl = String(inviteEmail!.payload.acceptUrl);
    expect(acceptUrl.startsWith(`${config.publicUrl}/invite/accept?token=`)).toBe(true);
    expect(
      new Date(invite.body.expiresAt).getTime() - new Date(invite.body.createdAt).getTime(),
    ).toBe(7 * 86_400_000);

    // Accept with the token from the link, exactly.
    const accepted = await http
      .post('/invites/accept')
      .send({ token: tokenOf(acceptUrl), name: 'Akinyi Cashier', password: PASSWORD });
    expect(accepted.status).toBe(201);
    const cashier = accepted.body as AuthBody;
    expect(cashier.user).toMatchObject({ email: cashierEmail, role: 'cashier', businessId });
    expect(accepted.headers.location).toBe(`/users/${cashier.user.id}`);
    const invites = await http.get('/invites').set('Authorization', ownerAuth);
    expect(invites.body.data[0]).toMatchObject({ id: invite.body.id, status: 'accepted' });

    // The cashier's permissions: reads yes, people and settings no.
    const me = await http.get('/me').set('Authorization', bearer(cashier));
    expect(me.status).toBe(200);
    expect(me.body.permissions.sort()).toEqual(
      [
        'catalog:read',
        'locations:read',
        'payments:sale',
        'sales:create',
        'sales:read-own',
        // Part 2: a cashier runs their own shift, sells on credit to customers, sends receipts.
        'shifts:operate',
        'customers:read',
        'customers:write',
        'customers:payments',
        'sms:receipt',
      ].sort(),
    );
    expect((await http.get('/business').set('Authorization', bearer(cashier))).status).toBe(200);
    for (const [method, path, body] of [
      ['get', '/users', undefined],
      ['post', '/invites', { email: uniqueEmail(), role: 'cashier' }],
      ['patch', '/business', { name: 'Mine now' }],
      ['patch', `/users/${registered.user.id}`, { status: 'disabled' }],
    ] as const) {
      const request = http[method](path).set('Authorization', bearer(cashier));
      const response = await (body ? request.send(body) : request);
      expect({ path, status: response.status }).toEqual({ path, status: 403 });
    }

    // The owner disables the cashier: the cashier's very next request is 401, and refresh fails.
    const disabled = await http
      .patch(`/users/${cashier.user.id}`)
      .set('Authorization', ownerAuth)
      .send({ status: 'disabled' });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ id: cashier.user.id, status: 'disabled' });
    const refused = await http.get('/me').set('Authorization', bearer(cashier));
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('UNAUTHENTICATED');
    expect(
      (await http.post('/auth/refresh').send({ refreshToken: cashier.refreshToken })).status,
    ).toBe(401);
    expect(
      (await http.post('/auth/login').send({ email: cashierEmail, password: PASSWORD })).status,
    ).toBe(401);

    // Password reset: the link's token resets the password and revokes every session.
    expect((await http.post('/auth/password/forgot').send({ email })).status).toBe(202);
    const [resetEmail] = await emailsTo(deps, 'password-reset', email);
    expect(resetEmail!.payload).toMatchObject({ to: email, name: 'Wanjiku Owner' });
    const resetUrl = String(resetEmail!.payload.resetUrl);
    expect(resetUrl.startsWith(`${config.publicUrl}/reset-password?token=`)).toBe(true);
    const reset = await http
      .post('/auth/password/reset')
      .send({ token: tokenOf(resetUrl), password: 'a-brand-new-password' });
    expect(reset.status).toBe(204);
    expect((await http.get('/me').set('Authorization', ownerAuth)).status).toBe(401);
    expect((await http.get('/me').set('Authorization', bearer(registered))).status).toBe(401);
    const sessions = await deps.db
      .select()
      .from(authSessions)
      .where(eq(authSessions.userId, registered.user.id));
    expect(sessions.length).toBe(2);
    expect(sessions.every((session) => session.revokedAt !== null)).toBe(true);
    const [resetRow] = await deps.db
      .select()
      .from(passwordResets)
      .where(eq(passwordResets.userId, registered.user.id));
    expect(resetRow!.usedAt).not.toBeNull();
    expect((await http.post('/auth/login').send({ email, password: PASSWORD })).status).toBe(401);
    expect(
      (await http.post('/auth/login').send({ email, password: 'a-brand-new-password' })).status,
    ).toBe(200);

    // Every step left an audit row with where it came from.
    const audit = await auditRows(deps, businessId);
    expect(audit.map((row) => row.action)).toEqual([
      'user.registered',
      'auth.login',
      'invite.created',
      'invite.accepted',
      'user.status_changed',
      'user.password_reset_requested',
      'user.password_reset',
      'auth.login',
    ]);
    for (const row of audit) {
      expect(row.ip).toMatch(/127\.0\.0\.1/);
      expect(row.userAgent).not.toBe('');
    }
    expect(audit.find((row) => row.action === 'user.status_changed')).toMatchObject({
      actorUserId: registered.user.id,
      targetType: 'user',
      targetId: cashier.user.id,
      details: { from: 'active', to: 'disabled' },
    });
  });
});
