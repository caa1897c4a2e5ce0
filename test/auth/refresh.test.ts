import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { authSessions, refreshTokens } from '../../src/db/schema/index.js';
import { hashToken } from '../../src/modules/auth/opaque-token.js';
import { createTestApp } from '../helpers/app.js';
import { auditRows, bearer, movableClock, registerOwner, type AuthBody } from '../helpers/auth.js';

const time = movableClock();
const { http, deps } = createTestApp({ clock: time.clock });
// A second "API process" on its own pool: concurrency across processes, not just requests.
const other = createTestApp({ clock: time.clock });

const refresh = (token: string, agent = http) =>
  agent.post('/auth/refresh').send({ refreshToken: token });

async function sessionOf(body: AuthBody) {
  const [token] = await deps.db
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashToken(body.refreshToken)));
  const [session] = await deps.db
    .select()
    .from(authSessions)
    .where(eq(authSessions.id, token!.sessionId));
  return session!;
}

describe('POST /auth/refresh', () => {
  it('rotates: a new pair each time, stored only as hashes, chained to its parent', async () => {
    const owner = await registerOwner(http);
    const first = await refresh(owner.refreshToken);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ user: { id: owner.user.id }, expiresIn: 900 });
    const second = await refresh(first.body.refreshToken);
    expect(second.status).toBe(200);
    expect((await http.get('/me').set('Authorization', bearer(second.body))).status).toBe(200);

    const rows = await deps.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.userId, owner.user.id))
      .orderBy(refreshTokens.id);
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((row) => row.sessionId)).size).toBe(1);
    expect(rows.map((row) => row.tokenHash)).toEqual(
      [owner, first.body, second.body].map((body) => hashToken(body.refreshToken)),
    );
    expect(rows.some((row) => Object.values(row).includes(owner.refreshToken))).toBe(false);
    expect(rows[1]!.parentId).toBe(rows[0]!.id);
    expect(rows[0]!.replacedById).toBe(rows[1]!.id);
    expect(rows[0]!.usedAt).not.toBeNull();
    expect(rows[2]!.usedAt).toBeNull();
  });

  it('lets concurrent refreshes with one token all succeed within the grace window (two processes)', async () => {
    const owner = await registerOwner(http);
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        refresh(owner.refreshToken, index % 2 === 0 ? http : other.http),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const tokens = new Set(responses.map((response) => String(response.body.refreshToken)));
    expect(tokens.size).toBe(6);
    // Every pair works and stays in the one family.
    for (const response of responses) {
      expect((await http.get('/me').set('Authorization', bearer(response.body))).status).toBe(200);
    }
    const rows = await deps.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.userId, owner.user.id));
    expect(rows).toHaveLength(7);
    expect(new Set(rows.map((row) => row.sessionId)).size).toBe(1);
    expect((await sessionOf(owner)).revokedAt).toBeNull();
    // Each child can itself be rotated.
    expect((await refresh(responses[3]!.body.refreshToken)).status).toBe(200);
  });

  it('treats a spent token presented after the grace window as theft: the whole family is revoked', async () => {
    const owner = await registerOwner(http);
    const rotated = await refresh(owner.refreshToken);
    expect(rotated.status).toBe(200);
    const newest = await refresh(rotated.body.refreshToken);
    expect(newest.status).toBe(200);

    time.advance((deps.config.auth.refreshReuseGraceSeconds + 1) * 1000);
    const replay = await refresh(owner.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });

    const session = await sessionOf(owner);
    expect(session.revokedAt).not.toBeNull();
    expect(session.revokedReason).toBe('refresh_token_reuse');
    // The thief's and the user's newest tokens, refresh and access alike, are dead.
    expect((await refresh(newest.body.refreshToken)).status).toBe(401);
    expect((await http.get('/me').set('Authorization', bearer(newest.body))).status).toBe(401);
    expect((await http.get('/me').set('Authorization', bearer(owner))).status).toBe(401);
    const audit = await auditRows(deps, owner.business.id);
    expect(audit.map((row) => row.action)).toContain('auth.refresh_token_reused');
  });

  it('keeps other sessions of the user alive when one family is revoked', async () => {
    const owner = await registerOwner(http);
    const login = await http
      .post('/auth/login')
      .send({ email: owner.user.email, password: 'a-long-enough-password' });
    expect(login.status).toBe(200);
    expect((await refresh(owner.refreshToken)).status).toBe(200);
    time.advance((deps.config.auth.refreshReuseGraceSeconds + 1) * 1000);
    expect((await refresh(owner.refreshToken)).status).toBe(401);
    expect((await http.get('/me').set('Authorization', bearer(login.body))).status).toBe(200);
    expect((await refresh(login.body.refreshToken)).status).toBe(200);
  });

  it('refuses unknown, malformed and expired refresh tokens', async () => {
    const owner = await registerOwner(http);
    for (const token of ['x'.repeat(43), 'not a token', owner.accessToken]) {
      const response = await refresh(token);
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    }
    time.advance(deps.config.auth.refreshTokenTtlSeconds * 1000 + 1000);
    expect((await refresh(owner.refreshToken)).status).toBe(401);
  });
});

describe('POST /auth/logout', () => {
  it('revokes the session: its access and refresh tokens stop working; repeat and unknown are 204', async () => {
    const owner = await registerOwner(http);
    const logout = await http.post('/auth/logout').send({ refreshToken: owner.refreshToken });
    expect(logout.status).toBe(204);
    expect((await http.get('/me').set('Authorization', bearer(owner))).status).toBe(401);
    expect((await refresh(owner.refreshToken)).status).toBe(401);
    expect((await sessionOf(owner)).revokedReason).toBe('logout');
    expect(
      (await http.post('/auth/logout').send({ refreshToken: owner.refreshToken })).status,
    ).toBe(204);
    expect((await http.post('/auth/logout').send({ refreshToken: 'y'.repeat(43) })).status).toBe(
      204,
    );
    const audit = await auditRows(deps, owner.business.id);
    expect(audit.filter((row) => row.action === 'auth.logout')).toHaveLength(1);
  });
});
