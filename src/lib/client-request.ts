import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { AppError } from './errors.js';

/**
 * Offline-safe writes keyed by a device's `clientRequestId` (sales, returns): the body's
 * fingerprint and the replay rule, shared so every such resource answers alike.
 */

/**
 * The idempotency fingerprint: sha256 of the canonical body (keys sorted, instants
 * normalised). Callers lower-case the UUIDs first, as PostgreSQL compares them.
 */
export const requestFingerprint = (body: unknown): string =>
  createHash('sha256').update(canonicalJson(body)).digest('hex');

/**
 * A write whose clientRequestId is already recorded: the same body is a replay (the stored
 * resource, `duplicate`); another body is `422 IDEMPOTENCY_KEY_REUSED`.
 */
export function replayOf<T>(
  stored: { requestHash: string; resource: T },
  requestHash: string,
  what: string,
): { status: 'duplicate'; resource: T } | { status: 'rejected'; error: AppError } {
  if (stored.requestHash === requestHash) return { status: 'duplicate', resource: stored.resource };
  const error = new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    `This clientRequestId was already used for a ${what} with different content; a new ${what} needs a new clientRequestId`,
    { errors: [{ path: 'clientRequestId', message: 'already used', code: 'idempotency' }] },
  );
  return { status: 'rejected', error };
}
