import { afterAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually, useJobs } from '../helpers/jobs.js';
import { listenForTest } from '../helpers/listen.js';
import { freePort } from '../helpers/process.js';
import { startSmtpSink, type ReceivedMail } from '../helpers/smtp.js';

/*
 * API.md amendment "Links in emails open something": the link is taken from the message the
 * SMTP server received and followed with real HTTP to the page the API serves (APP_URL
 * unset), whose form then completes the flow against the JSON endpoint it names.
 */
const smtp = await startSmtpSink();
afterAll(() => smtp.close());
const jobs = useJobs({ env: { SMTP_URL: smtp.url } });
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const { deps, app } = createTestApp({ env: { PUBLIC_URL: baseUrl, SMTP_URL: smtp.url } });
await listenForTest(app, { port });

const NEW_PASSWORD = 'a-new-password-for-the-till';

async function shop(): Promise<TestBusiness> {
  const created = await createBusiness(deps);
  jobs.businessIds.add(created.id);
  return created;
}

const mailTo = (to: string) =>
  eventually(
    () => smtp.messages.find((message) => message.to.includes(to)),
    20_000,
    `mail to ${to}`,
  );

/**
 * What a person reading the message finds: the link on the line after `intro` (as a mail
 * client shows the text part), and the token, which must stand whole on one line of the raw
 * message — never split by a quoted-printable soft line break.
 */
function linkIn(mail: ReceivedMail, intro: string) {
  const lines = mail.text.split(/\r?\n/);
  const link = lines[lines.indexOf(intro) + 1]!;
  const token = new URL(link).searchParams.get('token')!;
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(mail.raw.split('\r\n')).toContain(token);
  expect(mail.html).toContain(`href="${link.replace(/&/g, '&amp;')}"`);
  return { link, token };
}

/** Opens the page as a browser would and submits its form the way its script does. */
async function completeForm(link: string, token: string, values: Record<string, string>) {
  const page = await fetch(link, { headers: { accept: 'text/html' } });
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('cache-control')).toBe('no-store');
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const fields = [...html.matchAll(/<input name="([^"]+)"/g)].map((match) => match[1]);
  expect(fields.sort()).toEqual(['token', ...Object.keys(values)].sort());
  expect(html).toContain(`name="token" type="text" value="${token}"`);
  const script = /<script src="([^"]+)"/.exec(html)![1]!;
  const js = await fetch(new URL(script, link));
  expect(js.status).toBe(200);
  expect(await js.text()).toContain("'content-type': 'application/json'");
  // The page and its script load under the API's CSP (same origin, no inline script).
  expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);

  return fetch(new URL(action!, link), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token, ...values }),
  });
}

const login = (email: string, password: string) =>
  fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });

describe('email links open a page that completes the flow (APP_URL unset)', () => {
  it('invite: the link from the received message → the page → an account that signs in', async () => {
    const b = await shop();
    const email = `cashier-${newId()}@example.test`;
    const invited = await fetch(`${baseUrl}/invites`, {
      method: 'POST',
      headers: { authorization: b.owner.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ email, role: 'cashier' }),
    });
    expect(invited.status).toBe(201);
    const { link, token } = linkIn(await mailTo(email), 'Accept the invitation:');
    expect(link.startsWith(`${baseUrl}/invite/accept?token=`)).toBe(true);

    const accepted = await completeForm(link, token, {
      name: 'Achieng Otieno',
      password: NEW_PASSWORD,
    });
    expect(accepted.status).toBe(201);
    expect((await login(email, NEW_PASSWORD)).status).toBe(200);
  });

  it('password reset: the link from the received message → the page → the new password works', async () => {
    const b = await shop();
    const forgot = await fetch(`${baseUrl}/auth/password/forgot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: b.cashier.email }),
    });
    expect(forgot.status).toBe(202);
    const { link, token } = linkIn(await mailTo(b.cashier.email), 'Set a new password here:');
    expect(link.startsWith(`${baseUrl}/reset-password?token=`)).toBe(true);

    const reset = await completeForm(link, token, { password: NEW_PASSWORD });
    expect(reset.status).toBe(204);
    expect((await login(b.cashier.email, NEW_PASSWORD)).status).toBe(200);
  });
});

describe('with APP_URL set', () => {
  const withApp = createTestApp({ env: { APP_URL: 'https://pos.example.co.ke/' } });

  it('links go to the web app, and the API does not serve the pages', async () => {
    expect(withApp.config.appUrl).toBe('https://pos.example.co.ke');
    expect((await withApp.http.get('/invite/accept?token=x')).status).toBe(404);
    expect((await withApp.http.get('/reset-password')).status).toBe(404);
    const b = await createBusiness(withApp.deps);
    const email = `manager-${newId()}@example.test`;
    await withApp.http
      .post('/invites')
      .set('Authorization', b.owner.auth)
      .send({ email, role: 'manager' })
      .expect(201);
    const rows = await withApp.deps.pool.query<{ payload: { acceptUrl: string } }>(
      "select payload from outbox where business_id = $1 and type = 'invite'",
      [b.id],
    );
    expect(rows.rows[0]!.payload.acceptUrl).toMatch(
      /^https:\/\/pos\.example\.co\.ke\/invite\/accept\?token=/,
    );
  });
});
