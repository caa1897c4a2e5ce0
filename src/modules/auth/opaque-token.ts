import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque secrets handed to clients (refresh tokens, invite and reset links): 32 random
 * bytes, base64url. Only `hashToken()` of one is stored; lookups are by hash, so no
 * comparison of secrets happens at all.
 */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

/** sha256 hex: enough for high-entropy tokens (no salt or slow hash needed). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Opaque tokens are exactly 43 base64url characters; anything else is refused before any query. */
export const OPAQUE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
