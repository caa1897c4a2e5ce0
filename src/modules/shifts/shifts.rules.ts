import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/canonical-json.js';
import { unprocessable } from '../../lib/errors.js';
import { MAX_FUTURE_SKEW_MS } from '../sales/sales.rules.js';
import type { CashMovementBody, CloseShiftBody, OpenShiftBody } from './shifts.schemas.js';

/**
 * The idempotency fingerprints: sha256 of the canonical body (keys sorted, instants
 * normalised, ids lower-cased as PostgreSQL answers them). The opener is part of the
 * opening's fingerprint, so another user replaying a shift id is a reuse (422), never an
 * answer with someone else's shift.
 */
const fingerprint = (value: unknown): string =>
  createHash('sha256').update(canonicalJson(value)).digest('hex');

export const hashOpenShift = (body: OpenShiftBody, cashierId: string): string =>
  fingerprint({
    ...body,
    id: body.id.toLowerCase(),
    locationId: body.locationId?.toLowerCase(),
    cashierId,
  });

export const hashCloseShift = (body: CloseShiftBody): string => fingerprint(body);

export const hashCashMovement = (body: CashMovementBody, shiftId: string): string =>
  fingerprint({ ...body, clientRequestId: body.clientRequestId.toLowerCase(), shiftId });

/** A till's clock may run a little fast, not minutes: > 5 min ahead of the server → 422. */
export function checkNotInFuture(at: Date, now: Date, path: string): void {
  if (at.getTime() - now.getTime() > MAX_FUTURE_SKEW_MS) {
    throw unprocessable(
      `${path} is in the future (more than 5 minutes ahead of the server clock)`,
      [{ path, message: 'In the future', code: 'in_future' }],
    );
  }
}

/** A shift cannot close before it opened. */
export function checkClosedAfterOpened(closedAt: Date, openedAt: Date): void {
  if (closedAt.getTime() < openedAt.getTime()) {
    throw unprocessable('closedAt is before the shift was opened', [
      { path: 'closedAt', message: 'Before openedAt', code: 'before_opened' },
    ]);
  }
}

/** counted − expected: negative when the drawer is short. */
export const cashDifference = (countedCash: number, expectedCash: number): number =>
  countedCash - expectedCash;
