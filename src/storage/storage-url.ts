import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';

/** Folders anyone may read by URL (an <img> tag sends no bearer token). */
export const PUBLIC_FOLDERS: ReadonlySet<string> = new Set(['images']);

/** The URL of a stored object, served by the app (GET /files/{folder}/{name}) whatever the driver. */
export function fileUrl(config: Config, key: string): string {
  return `${config.publicUrl}/files/${key}`;
}

/**
 * A URL for a private object (an export) that works until `expiresAt` without a token:
 * `?expires=<unix seconds>&signature=<HMAC-SHA256 of key and expiry>`.
 */
export function signedFileUrl(config: Config, key: string, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `${fileUrl(config, key)}?expires=${expires}&signature=${sign(config, key, expires)}`;
}

/** True when the signature is this server's for this key and has not expired at `now`. */
export function verifyFileSignature(
  config: Config,
  key: string,
  expires: number,
  signature: string,
  now: Date,
): boolean {
  if (!Number.isSafeInteger(expires) || expires * 1000 < now.getTime()) return false;
  const expected = Buffer.from(sign(config, key, expires));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sign(config: Config, key: string, expires: number): string {
  // A key of its own, derived from the JWT secret, so a file signature is never a token.
  const secret = createHmac('sha256', config.auth.jwtSecret).update('storage-url-v1').digest();
  return createHmac('sha256', secret).update(`${key}\n${expires}`).digest('base64url');
}
