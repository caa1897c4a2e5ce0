import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { registerOwner } from '../helpers/auth.js';

const { http, deps } = createTestApp();

describe('access tokens on the real routes', () => {
  it('refuses forged, expired, mistyped and substituted tokens with 401 (never 500)', async () => {
    const owner = await registerOwner(http);
    const { issuer, audience, jwtSecret } = deps.config.auth;
    const secret = new TextEncoder().encode(jwtSecret);
    const claims = { bid: owner.business.id, role: 'owner', sid: '' };
    // The session id is in the genuine token; reuse it so only the tested property is wrong.
    const [header, payload, signature] = owner.accessToken.split('.') as [string, string, string];
    const genuine = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    claims.sid = String(genuine.sid);
    const sign = (
      options: { alg?: string; typ?: string; iss?: string; aud?: string; exp?: number } = {},
      key: Uint8Array = secret,
    ) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: options.typ ?? 'at+jwt' })
        .setSubject(owner.user.id)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 10)
        .setIssuer(options.iss ?? issuer)
        .setAudience(options.aud ?? audience)
        .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300)
        .sign(key);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    // Sanity: a token signed like ours is accepted, so each case below fails for its one reason.
    expect((await http.get('/me').set('Authorization', `Bearer ${await sign()}`)).status).toBe(200);

    const otherBusiness = await registerOwner(http);
    const cases: [string, string, string][] = [
      ['alg none', `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`, 'UNAUTHENTICATED'],
      [
        'alg none with the signature kept',
        `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.${signature}`,
        'UNAUTHENTICATED',
      ],
      ['HS512 with our secret', await sign({ alg: 'HS512' }), 'UNAUTHENTICATED'],
      [
        'another secret',
        await sign({}, new TextEncoder().encode('another-secret-0123456789-abcdefghijklmnop')),
        'UNAUTHENTICATED',
      ],
      ['expired', await sign({ exp: Math.floor(Date.now() / 1000) - 120 }), 'TOKEN_EXPIRED'],
      ['wrong audience', await sign({ aud: 'someone-else' }), 'UNAUTHENTICATED'],
      ['wrong issuer', await sign({ iss: 'evil' }), 'UNAUTHENTICATED'],
      ['wrong typ', await sign({ typ: 'JWT' }), 'UNAUTHENTICATED'],
      [
        'tampered payload (another business)',
        `${header}.${b64({ ...genuine, bid: otherBusiness.business.id })}.${signature}`,
        'UNAUTHENTICATED',
      ],
      [
        'tampered payload (role)',
        `${header}.${b64({ ...genuine, role: 'cashier' })}.${signature}`,
        'UNAUTHENTICATED',
      ],
      ['refresh token used as access token', owner.refreshToken, 'UNAUTHENTICATED'],
      ['empty', '', 'UNAUTHENTICATED'],
    ];
    for (const [name, token, code] of cases) {
      const response = await http.get('/me').set('Authorization', `Bearer ${token}`);
      expect({ name, status: response.status, code: response.body.code }).toEqual({
        name,
        status: 401,
        code,
      });
    }
  });

  it('refuses a genuine token whose user is moved to another business id in the claims', async () => {
    const a = await registerOwner(http);
    const b = await registerOwner(http);
    // Correctly signed, but naming A's user and session in B's business: no such row.
    const mixed = await deps.accessTokens.sign({
      userId: a.user.id,
      businessId: b.business.id,
      role: 'owner',
      sessionId: JSON.parse(Buffer.from(a.accessToken.split('.')[1]!, 'base64url').toString())
        .sid as string,
    });
    expect((await http.get('/business').set('Authorization', `Bearer ${mixed}`)).status).toBe(401);
  });

  it('refuses a token that expired after it was accepted (verified tokens are remembered only until exp)', async () => {
    const owner = await registerOwner(http);
    const sid = JSON.parse(Buffer.from(owner.accessToken.split('.')[1]!, 'base64url').toString())
      .sid as string;
    const claims = {
      userId: owner.user.id,
      businessId: owner.business.id,
      role: 'owner' as const,
      sessionId: sid,
    };
    // Issued almost a TTL ago: valid for a few more seconds.
    const shortLived = await deps.accessTokens.sign(
      claims,
      new Date(Date.now() - deps.accessTokens.ttlSeconds * 1000 + 5_000),
    );
    const { exp } = JSON.parse(Buffer.from(shortLived.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
    };
    const me = () => http.get('/me').set('Authorization', `Bearer ${shortLived}`);
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 50));
    const expired = await me();
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('TOKEN_EXPIRED');
  });
});
