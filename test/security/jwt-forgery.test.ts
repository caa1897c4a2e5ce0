import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, createUser } from '../helpers/factories.js';
import { businessSnapshot, expectProblem, routeKey } from '../helpers/security.js';

/*
 * OWASP API2 (broken authentication): forged, expired, mistyped and revoked bearer tokens
 * against EVERY non-public route of the registry. Each must be answered 401 (a problem
 * document with WWW-Authenticate), never a 5xx, and change nothing. Every token differs
 * from a genuine one in exactly one property; the genuine one is accepted (control).
 */

const { http, deps } = createTestApp();
const { jwtSecret } = deps.config.auth;
const secret = new TextEncoder().encode(jwtSecret);
const shop = await createBusiness(deps);
const owner = shop.owner;
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const [genuineHeader, genuinePayload, genuineSignature] = owner.token.split('.') as [
  string,
  string,
  string,
];
const claims = JSON.parse(Buffer.from(genuinePayload, 'base64url').toString()) as Record<
  string,
  unknown
>;

interface Forge {
  header?: Record<string, unknown>;
  /** Claims to set (undefined removes one). */
  claims?: Record<string, unknown>;
  key?: Uint8Array;
}

/** Signs a token like ours, with exactly the given differences. */
async function forge({ header = {}, claims: changes = {}, key = secret }: Forge = {}) {
  const payload: Record<string, unknown> = { ...claims, iat: now() - 10, exp: now() + 300 };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) Reflect.deleteProperty(payload, name);
    else payload[name] = value;
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...header })
    .sign(key);
}

// A disabled user, a signed-out session and a user that does not exist, each with a token
// that was (or would be) genuine.
const disabled = await createUser(deps, shop.id, 'manager');
await deps.pool.query(`update users set status = 'disabled' where id = $1`, [disabled.id]);
const signedOut = await createUser(deps, shop.id, 'owner');
await deps.pool.query(`update auth_sessions set revoked_at = now() where id = $1`, [
  signedOut.sessionId,
]);
const ghost = await deps.accessTokens.sign({
  userId: randomUUID(),
  businessId: shop.id,
  role: 'owner',
  sessionId: owner.sessionId,
});

const TOKENS: { name: string; authorization: string; code?: string }[] = [
  { name: 'no scheme', authorization: owner.token },
  { name: 'Basic scheme', authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
  { name: 'empty bearer', authorization: 'Bearer ' },
  { name: 'not a JWT', authorization: 'Bearer not.a.jwt' },
  { name: 'garbage 8 KB', authorization: `Bearer ${'a'.repeat(8000)}` },
  {
    name: 'alg none',
    authorization: `Bearer ${b64({ alg: 'none', typ: 'at+jwt' })}.${genuinePayload}.`,
  },
  {
    name: 'alg none, signature kept',
    authorization: `Bearer ${b64({ alg: 'none', typ: 'at+jwt' })}.${genuinePayload}.${genuineSignature}`,
  },
  {
    name: 'HS512 with our secret',
    authorization: `Bearer ${await forge({ header: { alg: 'HS512' } })}`,
  },
  {
    name: 'another secret',
    authorization: `Bearer ${await forge({ key: new TextEncoder().encode('x'.repeat(48)) })}`,
  },
  { name: 'empty secret', authorization: `Bearer ${await forge({ key: new Uint8Array(32) })}` },
  {
    name: 'expired',
    authorization: `Bearer ${await forge({ claims: { exp: now() - 120, iat: now() - 1000 } })}`,
    code: 'TOKEN_EXPIRED',
  },
  {
    name: 'not yet valid (nbf)',
    authorization: `Bearer ${await forge({ claims: { nbf: now() + 3600 } })}`,
  },
  { name: 'wrong issuer', authorization: `Bearer ${await forge({ claims: { iss: 'evil' } })}` },
  {
    name: 'wrong audience',
    authorization: `Bearer ${await forge({ claims: { aud: 'other-api' } })}`,
  },
  { name: 'wrong typ (JWT)', authorization: `Bearer ${await forge({ header: { typ: 'JWT' } })}` },
  { name: 'no typ', authorization: `Bearer ${await forge({ header: { typ: undefined } })}` },
  ...(['sub', 'bid', 'sid', 'role', 'exp', 'iat', 'iss', 'aud'] as const).map((claim) => ({
    name: `missing ${claim}`,
    authorization: '',
    claim,
  })),
  { name: 'unknown role', authorization: `Bearer ${await forge({ claims: { role: 'admin' } })}` },
  { name: 'sub not a uuid', authorization: `Bearer ${await forge({ claims: { sub: 'root' } })}` },
  {
    name: 'bid not a uuid',
    authorization: `Bearer ${await forge({ claims: { bid: "' or 1=1 --" } })}`,
  },
  { name: 'sid not a uuid', authorization: `Bearer ${await forge({ claims: { sid: 42 } })}` },
  {
    name: 'tampered payload (role)',
    authorization: `Bearer ${genuineHeader}.${b64({ ...claims, role: 'owner', sub: shop.cashier.id })}.${genuineSignature}`,
  },
  {
    name: 'tampered payload (business)',
    authorization: `Bearer ${genuineHeader}.${b64({ ...claims, bid: randomUUID() })}.${genuineSignature}`,
  },
  { name: 'opaque refresh-style token', authorization: `Bearer ${'r'.repeat(43)}` },
  { name: 'disabled user', authorization: disabled.auth },
  { name: 'signed-out session', authorization: signedOut.auth },
  { name: 'user that does not exist', authorization: `Bearer ${ghost}` },
];
for (const token of TOKENS) {
  const claim = (token as { claim?: string }).claim;
  if (claim) token.authorization = `Bearer ${await forge({ claims: { [claim]: undefined } })}`;
}

const PLACEHOLDER = '01900000-0000-7000-8000-000000000000';
const guarded = allRoutes.filter((route) => route.access !== 'public');

describe('forged bearer tokens on every authenticated route', () => {
  it('the genuine token and a token signed like it are accepted (control)', async () => {
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    for (const authorization of [owner.auth, `Bearer ${await forge()}`, `bearer ${owner.token}`]) {
      expect((await http.get('/me').set('Authorization', authorization)).status).toBe(200);
    }
  });

  // Every route gets one forgery of each kind; authenticate() is shared, so the whole
  // table runs on a read, a sale and a catalog write (the three middleware shapes).
  const ONE_OF_EACH = [
    'no scheme',
    'alg none',
    'another secret',
    'expired',
    'missing sid',
    'sub not a uuid',
    'disabled user',
  ];
  const FULL_TABLE = new Set(['GET /me', 'POST /sales', 'PATCH /products/{id}']);
  for (const route of guarded) {
    const tokens = FULL_TABLE.has(routeKey(route))
      ? TOKENS
      : TOKENS.filter((token) => ONE_OF_EACH.includes(token.name));
    it(`${routeKey(route)}: ${tokens.length} forgeries → 401 with WWW-Authenticate, never 5xx, nothing written`, async () => {
      const path = route.path.replace(/\{[^}]+\}/g, PLACEHOLDER);
      const before = await businessSnapshot(deps.pool, shop.id);
      for (const token of tokens) {
        const response = await http[route.method](path)
          .set('Authorization', token.authorization)
          .set('Idempotency-Key', randomUUID());
        const where = `${routeKey(route)} with ${token.name}`;
        expectProblem(response, 401, token.code ?? 'UNAUTHENTICATED', where);
        // RFC 6750 §3: error="invalid_token" only when a bearer token was presented.
        const presented = /^Bearer\s+\S/i.test(token.authorization);
        expect(response.headers['www-authenticate'], where).toBe(
          presented ? 'Bearer error="invalid_token"' : 'Bearer',
        );
      }
      expect(await businessSnapshot(deps.pool, shop.id)).toEqual(before);
    });
  }

  it('an access token in the query string is not read', async () => {
    const response = await http.get(`/me?access_token=${owner.token}`);
    expectProblem(response, 401, 'UNAUTHENTICATED', 'query token');
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });
});
