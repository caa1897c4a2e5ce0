import { createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { ROLES, type Role } from '../../db/schema/index.js';
import { AppError } from '../../lib/errors.js';

export interface AccessTokenClaims {
  userId: string;
  businessId: string;
  role: Role;
  sessionId: string;
}

export interface AccessTokenSettings {
  jwtSecret: string;
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
}

const ALGORITHM = 'HS256';
// RFC 9068 access-token type: a refresh token or an ID token of ours can never pass as one.
const TOKEN_TYPE = 'at+jwt';

// Verified tokens remembered (each a few hundred bytes; a till reuses its token for the
// whole TTL). Beyond this many, the oldest is forgotten and simply verified again.
const VERIFIED_CACHE_SIZE = 10_000;

interface Verified {
  claims: AccessTokenClaims;
  expiresAtMs: number;
}

/**
 * Signs and verifies access tokens. The key is imported once: re-importing it per request
 * costs ~8x on the verify path. A token that verified once is remembered until it expires:
 * the exact same string carries the same valid signature, so the HMAC (a hop through the
 * crypto thread pool in jose) is not redone on every request. Revocation is not a property
 * of the token: the session and user are checked on every request (authenticate.ts).
 */
export class AccessTokens {
  private readonly key: KeyObject;
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly settings: AccessTokenSettings) {
    this.key = createSecretKey(Buffer.from(settings.jwtSecret, 'utf8'));
  }

  get ttlSeconds(): number {
    return this.settings.accessTokenTtlSeconds;
  }

  async sign(claims: AccessTokenClaims, now: Date = new Date()): Promise<string> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT({ bid: claims.businessId, role: claims.role, sid: claims.sessionId })
      .setProtectedHeader({ alg: ALGORITHM, typ: TOKEN_TYPE })
      .setSubject(claims.userId)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.settings.accessTokenTtlSeconds)
      .sign(this.key);
  }

  /** Verifies signature, algorithm, type, issuer, audience and expiry; throws 401 problems. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const known = this.verified.get(token);
    if (known) {
      // jose's rule: expired once `exp` is not in the future (no clock tolerance).
      if (known.expiresAtMs > Date.now()) return known.claims;
      this.verified.delete(token);
    }
    const { claims, expiresAtMs } = await this.verifySignatureAndClaims(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, { claims, expiresAtMs });
    return claims;
  }

  private async verifySignatureAndClaims(token: string): Promise<Verified> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        typ: TOKEN_TYPE,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      const { sub, bid, role, sid, exp } = payload;
      if (
        typeof sub !== 'string' ||
        typeof bid !== 'string' ||
        typeof sid !== 'string' ||
        typeof role !== 'string' ||
        !(ROLES as readonly string[]).includes(role)
      ) {
        throw new AppError('UNAUTHENTICATED', 'The access token is not valid');
      }
      return {
        claims: { userId: sub, businessId: bid, role: role as Role, sessionId: sid },
        // requiredClaims makes jose refuse a token without a numeric `exp`.
        expiresAtMs: (exp as number) * 1000,
      };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) {
        throw new AppError('TOKEN_EXPIRED', 'The access token has expired; refresh it');
      }
      throw new AppError('UNAUTHENTICATED', 'The access token is not valid');
    }
  }
}
