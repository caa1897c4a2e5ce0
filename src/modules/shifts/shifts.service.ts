import type { DbOrTx } from '../../db/client.js';
import {
  CASH_MOVEMENTS_CLIENT_REQUEST_UNIQUE,
  SHIFTS_OPEN_REGISTER_UNIQUE,
  SHIFTS_PKEY,
} from '../../db/schema/index.js';
import { violatedUniqueConstraint } from '../../db/pg-errors.js';
import type { AppDeps } from '../../deps.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { AppError, notFound, unprocessable } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import type { Caller } from '../auth/caller.js';
import {
  keepLocationOpen,
  mayActAt,
  outsideAssignment,
  readScope,
  resolveWriteLocation,
} from '../locations/location-access.js';
import { toCashMovement, toShift } from './shift.presenter.js';
import { computeShiftFigures } from './shift-figures.repo.js';
import * as repo from './shifts.repo.js';
import {
  checkClosedAfterOpened,
  checkNotInFuture,
  hashCashMovement,
  hashCloseShift,
  hashOpenShift,
} from './shifts.rules.js';
import type {
  CashMovement,
  CashMovementBody,
  CloseShiftBody,
  ListShiftsQuery,
  OpenShiftBody,
  Shift,
  ShiftReport,
} from './shifts.schemas.js';

type Outcome<T> = { status: 'created' | 'replayed'; value: T };

const keyReused = (path: string, what: string) =>
  new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    `This ${path} was already used for ${what} with different content`,
    { errors: [{ path, message: 'already used', code: 'idempotency' }] },
  );

/**
 * A shift the caller may see: cashiers (without `shifts:read-all`) only their own — another
 * cashier's is 404, as sales are — and everyone only at their assigned locations (403).
 */
function visible(caller: Caller, row: repo.ShiftRow | undefined): repo.ShiftRow {
  if (!row) throw notFound('Shift');
  if (!caller.permissions.has('shifts:read-all') && row.cashierId !== caller.userId)
    throw notFound('Shift');
  if (!mayActAt(caller, row.locationId)) throw outsideAssignment();
  return row;
}

/**
 * Opens a shift under the till's own id, once: the same id and body again answers the shift
 * as it is now; another body (or another user) is 422. A second open shift on the register
 * at the location is 409 naming `register` — the partial unique index decides, so it holds
 * across processes.
 */
export async function openShift(
  deps: AppDeps,
  caller: Caller,
  body: OpenShiftBody,
): Promise<Outcome<Shift>> {
  const requestHash = hashOpenShift(body, caller.userId);
  const replay = (row: repo.ShiftRow): Outcome<Shift> => {
    if (row.requestHash !== requestHash) throw keyReused('id', 'a shift');
    return { status: 'replayed', value: toShift(row) };
  };
  const stored = await repo.findShift(deps.db, caller.businessId, body.id);
  if (stored) return replay(stored);

  const openedAt = new Date(Date.parse(body.openedAt));
  checkNotInFuture(openedAt, deps.clock(), 'openedAt');
  try {
    const row = await deps.db.transaction(async (tx) => {
      const location = await resolveWriteLocation(tx, caller, body.locationId, {
        unknown: 'unprocessable',
        allowArchived: false,
        path: 'locationId',
      });
      await keepLocationOpen(tx, caller.businessId, location.id, 'locationId');
      return repo.insertShift(tx, {
        id: body.id,
        businessId: caller.businessId,
        locationId: location.id,
        cashierId: caller.userId,
        register: body.register,
        requestHash,
        openedAt,
        openingFloat: body.openingFloat,
      });
    });
    return { status: 'created', value: toShift(row) };
  } catch (error) {
    const constraint = violatedUniqueConstraint(error);
    if (constraint === SHIFTS_PKEY) {
      const winner = await repo.findShift(deps.db, caller.businessId, body.id);
      if (winner) return replay(winner);
    }
    if (constraint === SHIFTS_OPEN_REGISTER_UNIQUE) {
      throw new AppError('CONFLICT', 'A shift is already open on this register at this location', {
        errors: [
          { path: 'register', message: 'register already has an open shift', code: 'unique' },
        ],
      });
    }
    throw error;
  }
}

/**
 * Records a pay-in or pay-out once per clientRequestId (replay → the movement, 200; another
 * body → 422). The shift is locked while it is written, so a movement and the close are
 * ordered: a closed shift takes none (422).
 */
export async function recordCashMovement(
  deps: AppDeps,
  caller: Caller,
  shiftId: string,
  body: CashMovementBody,
): Promise<Outcome<CashMovement>> {
  const requestHash = hashCashMovement(body, shiftId);
  const replay = (row: repo.ShiftCashMovementRow): Outcome<CashMovement> => {
    if (row.requestHash !== requestHash) throw keyReused('clientRequestId', 'a cash movement');
    return { status: 'replayed', value: toCashMovement(row) };
  };
  // The shift first: a replay must not reveal a movement of a shift the caller cannot see.
  visible(caller, await repo.findShift(deps.db, caller.businessId, shiftId));
  const stored = await repo.findCashMovement(deps.db, caller.businessId, body.clientRequestId);
  if (stored) return replay(stored);
  try {
    const row = await deps.db.transaction(async (tx) => {
      const shift = visible(caller, await repo.lockShift(tx, caller.businessId, shiftId));
      if (shift.status !== 'open') throw closedShift();
      return repo.insertCashMovement(tx, {
        id: newId(),
        businessId: caller.businessId,
        shiftId: shift.id,
        clientRequestId: body.clientRequestId,
        requestHash,
        type: body.type,
        amount: body.amount,
        note: body.note,
        createdBy: caller.userId,
      });
    });
    return { status: 'created', value: toCashMovement(row) };
  } catch (error) {
    if (violatedUniqueConstraint(error) !== CASH_MOVEMENTS_CLIENT_REQUEST_UNIQUE) throw error;
    const winner = await repo.findCashMovement(deps.db, caller.businessId, body.clientRequestId);
    if (!winner) throw error;
    return replay(winner);
  }
}

const closedShift = () =>
  unprocessable('The shift is closed', [
    { path: 'id', message: 'Shift is closed', code: 'closed' },
  ]);

/**
 * Closes a shift once: its expected cash is computed from the facts under the shift's lock
 * and frozen with where the facts ended (shift-figures.repo.ts), so late facts never move
 * it. The same close again answers the shift; another close of a closed shift is 422, so of
 * concurrent closes with different counts exactly one wins.
 */
export async function closeShift(
  deps: AppDeps,
  caller: Caller,
  shiftId: string,
  body: CloseShiftBody,
): Promise<Shift> {
  const closeHash = hashCloseShift(body);
  const closedAt = new Date(Date.parse(body.closedAt));
  const row = await deps.db.transaction(async (tx) => {
    const shift = visible(caller, await repo.lockShift(tx, caller.businessId, shiftId));
    if (shift.status === 'closed') {
      if (shift.closeHash === closeHash) return shift;
      throw unprocessable('The shift is already closed with other figures', [
        { path: 'id', message: 'Shift is closed', code: 'closed' },
      ]);
    }
    checkNotInFuture(closedAt, deps.clock(), 'closedAt');
    checkClosedAfterOpened(closedAt, shift.openedAt);
    const figures = await computeShiftFigures(tx, caller.businessId, shiftId, { kind: 'closing' });
    return repo.markShiftClosed(tx, caller.businessId, shiftId, {
      closedAt,
      closeReceivedAt: new Date(figures.cutoff.at ?? Date.now()),
      closeSaleNumber: figures.cutoff.saleNumber,
      closedBy: caller.userId,
      countedCash: body.countedCash,
      expectedCash: figures.expectedCash,
      closeNote: body.note ?? null,
      closeHash,
    });
  });
  return toShift(row);
}

export async function getShift(deps: AppDeps, caller: Caller, id: string): Promise<Shift> {
  return toShift(visible(caller, await repo.findShift(deps.db, caller.businessId, id)));
}

/**
 * The X report of an open shift (live) or the Z report of a closed one: the figures up to
 * the close, its frozen expected cash, and the sales accepted after it counted apart.
 */
export async function shiftReport(deps: AppDeps, caller: Caller, id: string): Promise<ShiftReport> {
  const shift = visible(caller, await repo.findShift(deps.db, caller.businessId, id));
  const closed =
    shift.status === 'closed' && shift.closeSaleNumber !== null && shift.closeReceivedAt !== null
      ? { saleNumber: shift.closeSaleNumber, at: shift.closeReceivedAt }
      : undefined;
  const { cutoff: _cutoff, ...figures } = await computeShiftFigures(
    deps.db,
    caller.businessId,
    id,
    closed ? { kind: 'closed', ...closed } : { kind: 'open' },
  );
  const presented = toShift(shift);
  if (!closed || presented.expectedCash === null || presented.countedCash === null) {
    return { shift: presented, ...figures };
  }
  return {
    shift: presented,
    ...figures,
    expectedCash: presented.expectedCash,
    countedCash: presented.countedCash,
    difference: presented.difference ?? 0,
  };
}

/** Shifts newest first by (openedAt, id); cashiers see their own. */
export async function listShifts(
  deps: AppDeps,
  caller: Caller,
  query: ListShiftsQuery,
): Promise<{ data: Shift[]; nextCursor: string | null }> {
  const limit = query.limit ?? 50;
  const rows = await repo.listShiftRows(deps.db, {
    businessId: caller.businessId,
    timezone: caller.businessTimezone,
    status: query.status,
    register: query.register,
    locationIds: await readScope(deps.db, caller, query.locationId),
    cashierId: caller.permissions.has('shifts:read-all') ? undefined : caller.userId,
    from: query.from,
    to: query.to,
    after: query.cursor === undefined ? undefined : decodeShiftCursor(query.cursor),
    limit,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(toShift),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.openedAt.toISOString(), last.id]) : null,
  };
}

const isShiftKey = (values: unknown[]): values is [string, string] =>
  values.length === 2 &&
  typeof values[0] === 'string' &&
  !Number.isNaN(Date.parse(values[0])) &&
  typeof values[1] === 'string' &&
  UUID_PATTERN.test(values[1]);

function decodeShiftCursor(cursor: string): { openedAt: Date; id: string } {
  const [at, id] = decodeCursor(cursor, isShiftKey);
  return { openedAt: new Date(at), id };
}

/** True when the location has an open shift (locations.service.ts: it cannot be archived). */
export function hasOpenShiftAt(db: DbOrTx, businessId: string, locationId: string) {
  return repo.hasOpenShiftAt(db, businessId, locationId);
}
