import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import {
  bearer,
  emailsTo,
  PASSWORD,
  registerOwner,
  tokenOf,
  uniqueEmail,
} from '../helpers/auth.js';

const { http, deps } = createTestApp();

const registerBody = (overrides: Record<string, unknown> = {}) => ({
  businessName: 'Duka',
  name: 'Owner',
  email: uniqueEmail(),
  password: PASSWORD,
  ...overrides,
});

function expectFieldErrors(
  response: { status: number; body: { code: string; errors?: { path: string; code: string }[] } },
  paths: string[],
) {
  expect(response.status).toBe(400);
  expect(response.body.code).toBe('VALIDATION_FAILED');
  expect(response.body.errors?.map((error) => error.path).sort()).toEqual([...paths].sort());
}

describe('mass assignment is refused with 400', () => {
  it('on register', async () => {
    const other = await registerOwner(http);
    for (const extra of [
      { businessId: other.business.id },
      { role: 'manager' },
      { status: 'disabled' },
    ]) {
      const email = uniqueEmail();
      const response = await http.post('/auth/register').send(registerBody({ email, ...extra }));
      expectFieldErrors(response, Object.keys(extra));
      expect(response.body.errors[0].code).toBe('unrecognized_keys');
      // Nothing was created.
      expect((await http.post('/auth/login').send({ email, password: PASSWORD })).status).toBe(401);
    }
  });

  it('on PATCH /me', async () => {
    const owner = await registerOwner(http);
    const other = await registerOwner(http);
    for (const extra of [
      { businessId: other.business.id },
      { role: 'cashier' },
      { status: 'disabled' },
      { email: 'new@example.test' },
    ]) {
      const response = await http
        .patch('/me')
        .set('Authorization', bearer(owner))
        .send({ name: 'Renamed', ...extra });
      expectFieldErrors(response, Object.keys(extra));
    }
    const me = await http.get('/me').set('Authorization', bearer(owner));
    expect(me.body.user).toMatchObject({
      name: 'Wanjiku Owner',
      role: 'owner',
      status: 'active',
      businessId: owner.business.id,
    });
  });

  it('on invite accept', async () => {
    const owner = await registerOwner(http);
    const email = uniqueEmail('invitee');
    await http
      .post('/invites')
      .set('Authorization', bearer(owner))
      .send({ email, role: 'cashier' })
      .expect(201);
    const token = tokenOf((await emailsTo(deps, 'invite', email))[0]!.payload.acceptUrl);
    for (const extra of [
      { role: 'owner' },
      { businessId: owner.business.id },
      { status: 'active' },
    ]) {
      const response = await http
        .post('/invites/accept')
        .send({ token, name: 'Sneaky', password: PASSWORD, ...extra });
      expectFieldErrors(response, Object.keys(extra));
    }
    // The invite is still usable, and gives exactly the invited role.
    const accepted = await http
      .post('/invites/accept')
      .send({ token, name: 'Honest', password: PASSWORD });
    expect(accepted.status).toBe(201);
    expect(accepted.body.user.role).toBe('cashier');
  });

  it('on POST /invites, PATCH /users/{id} and PATCH /business', async () => {
    const owner = await registerOwner(http);
    const cases = [
      [
        'post',
        '/invites',
        { email: uniqueEmail(), role: 'cashier', businessId: owner.business.id },
      ],
      ['patch', `/users/${owner.user.id}`, { role: 'owner', email: 'x@example.test' }],
      ['patch', '/business', { name: 'x', currency: 'USD' }],
      ['patch', '/business', { subscriptionPlan: 'annual' }],
    ] as const;
    for (const [method, path, body] of cases) {
      const response = await http[method](path).set('Authorization', bearer(owner)).send(body);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
    }
  });
});

describe('field validation', () => {
  it('enforces password length 10–128 on register, reset, accept and PATCH /me', async () => {
    for (const password of ['short-pw', 'x'.repeat(9), 'x'.repeat(129), 1234567890123]) {
      expectFieldErrors(await http.post('/auth/register').send(registerBody({ password })), [
        'password',
      ]);
    }
    for (const password of ['x'.repeat(10), 'x'.repeat(128)]) {
      expect((await http.post('/auth/register').send(registerBody({ password }))).status).toBe(201);
    }
    expectFieldErrors(
      await http.post('/auth/password/reset').send({ token: 'a'.repeat(43), password: 'short' }),
      ['password'],
    );
    expectFieldErrors(
      await http.post('/invites/accept').send({ token: 'a'.repeat(43), name: 'A', password: 'x' }),
      ['password'],
    );
    const owner = await registerOwner(http);
    expectFieldErrors(
      await http
        .patch('/me')
        .set('Authorization', bearer(owner))
        .send({ currentPassword: PASSWORD, newPassword: 'short' }),
      ['newPassword'],
    );
    expectFieldErrors(
      await http
        .patch('/me')
        .set('Authorization', bearer(owner))
        .send({ newPassword: 'long-enough-new-password' }),
      ['currentPassword'],
    );
  });

  it('rejects bad emails, blank or control-character names, missing fields and wrong types', async () => {
    for (const email of ['not-an-email', 'a@', '@b.co', `${'x'.repeat(250)}@example.test`, 42]) {
      expectFieldErrors(await http.post('/auth/register').send(registerBody({ email })), ['email']);
      const login = await http.post('/auth/login').send({ email, password: 'whatever-123' });
      expect(login.status).toBe(400);
    }
    expectFieldErrors(await http.post('/auth/register').send(registerBody({ name: '   ' })), [
      'name',
    ]);
    expectFieldErrors(
      await http.post('/auth/register').send(registerBody({ businessName: 'Duka\u0000' })),
      ['businessName'],
    );
    expectFieldErrors(await http.post('/auth/register').send({}), [
      'businessName',
      'name',
      'email',
      'password',
    ]);
    expectFieldErrors(await http.post('/auth/register').send(registerBody({ phone: '07-bad' })), [
      'phone',
    ]);
    expect((await http.post('/auth/password/forgot').send({ email: 'nope' })).status).toBe(400);
  });

  it('refuses oversized and malformed bodies', async () => {
    const huge = await http.post('/auth/register').send(registerBody({ name: 'x'.repeat(20_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe('PAYLOAD_TOO_LARGE');
    const malformed = await http
      .post('/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"email":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('MALFORMED_JSON');
    const text = await http.post('/auth/login').set('Content-Type', 'text/plain').send('hi');
    expect(text.status).toBe(415);
  });
});

describe('duplicate email', () => {
  it('answers 409 CONFLICT naming email on register, whatever the case', async () => {
    const owner = await registerOwner(http);
    const response = await http
      .post('/auth/register')
      .send(registerBody({ email: owner.user.email.toUpperCase() }));
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({
      code: 'CONFLICT',
      errors: [{ path: 'email', code: 'unique' }],
    });
  });

  it('lets exactly one of concurrent registrations with one email win', async () => {
    const email = uniqueEmail('race');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => http.post('/auth/register').send(registerBody({ email }))),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    for (const response of responses.filter((candidate) => candidate.status === 409)) {
      expect(response.body.errors).toEqual([
        expect.objectContaining({ path: 'email', code: 'unique' }),
      ]);
    }
  });
});
