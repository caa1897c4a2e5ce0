import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { emailLog, outbox } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { eventually, useJobs } from '../helpers/jobs.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { linkIn, mailsTo, uniqueEmail } from '../helpers/flows.js';

// The API and a worker "process" (relay + BullMQ workers) mailing through a real SMTP server.
const smtp = await startSmtpSink();
afterAll(() => smtp.close());
const { http, config, deps } = createTestApp({ env: { SMTP_URL: smtp.url } });
const jobs = useJobs({ env: { SMTP_URL: smtp.url } });

const OWNER_PASSWORD = 'owner-password-0001';

async function register(email: string) {
  const response = await http.post('/auth/register').send({
    businessName: 'Duka Flows',
    name: 'Amina Owner',
    email,
    password: OWNER_PASSWORD,
  });
  expect(response.status).toBe(201);
  jobs.businessIds.add(response.body.business.id);
  return response.body as {
    user: { id: string; email: string };
    business: { id: string; name: string };
    accessToken: string;
    refreshToken: string;
  };
}

describe('people: invites and password resets over real SMTP', () => {
  it('register → invite a cashier → the invite email arrives → its link token is accepted → the cashier logs in', async () => {
    const owner = await register(uniqueEmail('owner'));
    const cashierEmail = uniqueEmail('cashier');
    const invite = await http
      .post('/invites')
      .set('Authorization', `Bearer ${owner.accessToken}`)
      .send({ email: cashierEmail, role: 'cashier' });
    expect(invite.status).toBe(201);

    const [mail] = await mailsTo(smtp, cashierEmail);
    expect(mail!.subject).toBe(`Amina Owner invited you to Duka Flows`);
    expect(mail!.text).toContain('as cashier');
    const { url, token } = linkIn(mail!);
    // The link is built from PUBLIC_URL and the path API.md promises.
    expect(`${url.origin}${url.pathname}`).toBe(`${config.publicUrl}/invite/accept`);

    const accepted = await http
      .post('/invites/accept')
      .send({ token, name: 'Baraka Cashier', password: 'cashier-password-01' });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({
      user: { email: cashierEmail, role: 'cashier', status: 'active' },
      business: { id: owner.business.id },
    });
    // The link works once.
    const again = await http
      .post('/invites/accept')
      .send({ token, name: 'Baraka Again', password: 'cashier-password-02' });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(500);

    const login = await http
      .post('/auth/login')
      .send({ email: cashierEmail, password: 'cashier-password-01' });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ id: accepted.body.user.id, role: 'cashier' });
    const me = await http.get('/me').set('Authorization', `Bearer ${login.body.accessToken}`);
    expect(me.status).toBe(200);
    expect(me.body.business.id).toBe(owner.business.id);

    const invites = await http.get('/invites').set('Authorization', `Bearer ${owner.accessToken}`);
    expect(invites.body.data).toEqual([
      expect.objectContaining({ email: cashierEmail, status: 'accepted' }),
    ]);
    // The mail log says sent, once, for the outbox row the invite wrote.
    const [row] = await deps.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.businessId, owner.business.id), eq(outbox.type, 'invite')));
    const log = await eventually(async () => {
      const rows = await deps.db
        .select()
        .from(emailLog)
        .where(eq(emailLog.messageId, row!.messageId));
      return rows[0]?.status === 'sent' && rows;
    });
    expect(log).toHaveLength(1);
    expect(smtp.messages.filter((m) => m.to.includes(cashierEmail))).toHaveLength(1);
  });

  it('forgot password → the reset email arrives → its link token resets → old sessions 401, the new password logs in', async () => {
    const email = uniqueEmail('forgetful');
    const owner = await register(email);
    // A second live session (another device), to be revoked too.
    const other = await http.post('/auth/login').send({ email, password: OWNER_PASSWORD });
    expect(other.status).toBe(200);

    const forgot = await http.post('/auth/password/forgot').send({ email: email.toUpperCase() });
    expect(forgot.status).toBe(202);
    // An unknown account gets the same answer and no mail.
    const unknown = uniqueEmail('nobody');
    expect((await http.post('/auth/password/forgot').send({ email: unknown })).status).toBe(202);

    const [mail] = await mailsTo(smtp, email);
    expect(mail!.subject).toBe('Reset your password');
    expect(mail!.text).toContain('Hello Amina Owner');
    const { url, token } = linkIn(mail!);
    expect(`${url.origin}${url.pathname}`).toBe(`${config.publicUrl}/reset-password`);

    const newPassword = 'brand-new-password-02';
    const reset = await http.post('/auth/password/reset').send({ token, password: newPassword });
    expect(reset.status).toBe(204);

    // Every earlier session is gone: access tokens and refresh tokens alike.
    for (const session of [owner, other.body as typeof owner]) {
      const me = await http.get('/me').set('Authorization', `Bearer ${session.accessToken}`);
      expect(me.status).toBe(401);
      const refresh = await http.post('/auth/refresh').send({ refreshToken: session.refreshToken });
      expect(refresh.status).toBe(401);
    }
    const oldLogin = await http.post('/auth/login').send({ email, password: OWNER_PASSWORD });
    expect(oldLogin.status).toBe(401);
    const newLogin = await http.post('/auth/login').send({ email, password: newPassword });
    expect(newLogin.status).toBe(200);
    const me = await http.get('/me').set('Authorization', `Bearer ${newLogin.body.accessToken}`);
    expect(me.status).toBe(200);

    // The link is single use.
    const replay = await http
      .post('/auth/password/reset')
      .send({ token, password: 'yet-another-password-3' });
    expect(replay.status).toBeGreaterThanOrEqual(400);
    expect(replay.status).toBeLessThan(500);
    expect(smtp.messages.some((m) => m.to.includes(unknown))).toBe(false);
    expect(smtp.messages.filter((m) => m.to.includes(email))).toHaveLength(1);
  });
});
