import type { DbOrTx, Tx } from '../../db/client.js';
import type { Caller } from '../auth/caller.js';
import { AppError, forbidden, notFound } from '../../lib/errors.js';
import * as repo from './locations.repo.js';

/** Who acts, as far as locations are concerned: the part of the Caller location rules read. */
export type LocationCaller = Pick<Caller, 'businessId' | 'role' | 'locationIds'>;

/** Owners act everywhere; others only at their assigned locations (none assigned = all). */
export const mayActAt = (caller: LocationCaller, locationId: string): boolean =>
  caller.role === 'owner' ||
  caller.locationIds.length === 0 ||
  caller.locationIds.includes(locationId);

/**
 * The location ids a read is limited to: the one asked for (404 when not the business's,
 * 403 when outside the caller's assignment), else the caller's assignment, else all
 * (undefined).
 */
export async function readScope(
  db: DbOrTx,
  caller: LocationCaller,
  locationId: string | undefined,
): Promise<string[] | undefined> {
  if (locationId !== undefined) {
    if (!(await repo.findLocation(db, caller.businessId, locationId))) throw notFound('Location');
    if (!mayActAt(caller, locationId)) throw outsideAssignment();
    return [locationId];
  }
  if (caller.role === 'owner' || caller.locationIds.length === 0) return undefined;
  return [...caller.locationIds];
}

export const outsideAssignment = () =>
  forbidden('This location is outside the locations you are assigned to');

export interface ResolveOptions {
  /** How an unknown (or another business's) location is answered: 404, or 422 in a body. */
  unknown: 'not_found' | 'unprocessable';
  /** Stock writes refuse an archived location; a sale (a fact) is accepted there. */
  allowArchived: boolean;
  /** The body field, for `errors[].path`. */
  path: string;
}

/**
 * The location a write happens at (API.md "Branches"): the one given, else the caller's
 * only assigned location, else the business default. 403 outside the caller's assignment.
 */
export async function resolveWriteLocation(
  db: DbOrTx,
  caller: LocationCaller,
  locationId: string | undefined,
  options: ResolveOptions,
): Promise<repo.LocationRow> {
  const id =
    locationId ??
    (caller.role !== 'owner' && caller.locationIds.length === 1
      ? caller.locationIds[0]
      : undefined);
  const location =
    id === undefined
      ? await repo.findDefaultLocation(db, caller.businessId)
      : await repo.findLocation(db, caller.businessId, id);
  if (!location) {
    if (options.unknown === 'not_found') {
      throw new AppError('NOT_FOUND', 'Location not found', {
        errors: [{ path: options.path, message: 'No such location', code: 'not_found' }],
      });
    }
    throw new AppError('UNPROCESSABLE', 'Location not found', {
      errors: [{ path: options.path, message: 'No such location', code: 'not_found' }],
    });
  }
  if (!mayActAt(caller, location.id)) throw outsideAssignment();
  if (location.archived && !options.allowArchived) {
    throw new AppError('UNPROCESSABLE', 'The location is archived', {
      errors: [{ path: options.path, message: 'Location is archived', code: 'archived' }],
    });
  }
  return location;
}

/**
 * Checks a `locationIds` assignment: every id a location of the business, not archived
 * (else 422 naming the entry). A restricted manager may hand out only their own locations,
 * and "every location" (empty) becomes their own list.
 */
export async function checkAssignment(
  db: DbOrTx,
  actor: LocationCaller,
  ids: readonly string[],
  path: string,
): Promise<string[]> {
  const found = new Map(
    (await repo.findLocations(db, actor.businessId, ids)).map((l) => [l.id, l]),
  );
  const bad = ids.findIndex((id) => !found.get(id) || found.get(id)?.archived);
  if (bad !== -1) {
    throw new AppError('UNPROCESSABLE', 'Every assigned location must be an open location', {
      errors: [{ path: `${path}.${bad}`, message: 'No such open location', code: 'not_found' }],
    });
  }
  if (actor.role === 'owner' || actor.locationIds.length === 0) return [...ids];
  if (ids.length === 0) return [...actor.locationIds];
  const outside = ids.findIndex((id) => !actor.locationIds.includes(id));
  if (outside !== -1) throw outsideAssignment();
  return [...ids];
}

/**
 * Holds a location open until the transaction commits (a share lock: archiving waits for
 * it, then sees what it wrote). Archived meanwhile → 422 naming `path`.
 */
export async function keepLocationOpen(
  tx: Tx,
  businessId: string,
  locationId: string,
  path: string,
): Promise<void> {
  const location = await repo.lockLocation(tx, businessId, locationId, 'share');
  if (!location || location.archived) {
    throw new AppError('UNPROCESSABLE', 'The location is archived', {
      errors: [{ path, message: 'Location is archived', code: 'archived' }],
    });
  }
}
