import type { AppDeps } from '../../deps.js';
import { clampLimit, decodeIdCursor, toIdPage } from '../../lib/cursor.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { hasOpenShiftAt } from '../shifts/shifts.service.js';
import * as repo from './locations.repo.js';
import type {
  CreateLocationBody,
  Location,
  LocationListQuery,
  UpdateLocationBody,
} from './locations.schemas.js';

interface Caller {
  businessId: string;
}

export function toLocation(row: repo.LocationRow): Location {
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    phone: row.phone,
    etimsBranchId: row.etimsBranchId,
    isDefault: row.isDefault,
    archived: row.archived,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The business's locations by id (time of creation); archived ones on request. */
export async function listLocations(
  deps: AppDeps,
  caller: Caller,
  query: LocationListQuery,
): Promise<{ data: Location[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const rows = await repo.listLocations(deps.db, caller.businessId, {
    afterId: decodeIdCursor(query.cursor),
    limit,
    includeArchived: query.includeArchived ?? false,
  });
  return toIdPage(rows, limit, toLocation);
}

export async function getLocation(deps: AppDeps, caller: Caller, id: string): Promise<Location> {
  const row = await repo.findLocation(deps.db, caller.businessId, id);
  if (!row) throw notFound('Location');
  return toLocation(row);
}

/** Opens a branch (names unique among open branches: 409 `name`). */
export async function createLocation(
  deps: AppDeps,
  caller: Caller,
  body: CreateLocationBody,
): Promise<Location> {
  const row = await repo.insertLocation(deps.db, {
    id: newId(),
    businessId: caller.businessId,
    name: body.name,
    address: body.address ?? null,
    phone: body.phone ?? null,
    etimsBranchId: body.etimsBranchId ?? '00',
  });
  return toLocation(row);
}

export async function updateLocation(
  deps: AppDeps,
  caller: Caller,
  id: string,
  body: UpdateLocationBody,
): Promise<Location> {
  const row = await repo.updateLocation(deps.db, caller.businessId, id, body);
  if (!row) throw notFound('Location');
  return toLocation(row);
}

/**
 * Archives a branch: it leaves lists and takes no stock writes, while its history, stock
 * and sales stay (a sale rung up there before is still accepted). The default, or a
 * branch with an open shift, → 422. Archiving twice is the same (204). The row is locked
 * first, so a shift being opened there (which holds it with a share lock) either commits
 * before the check sees it or finds the branch archived.
 */
export async function archiveLocation(deps: AppDeps, caller: Caller, id: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const row = await repo.lockLocation(tx, caller.businessId, id, 'update');
    if (!row) throw notFound('Location');
    if (row.isDefault) {
      throw unprocessable('The default location cannot be archived', [
        { path: 'id', message: 'Default location', code: 'default_location' },
      ]);
    }
    if (row.archived) return;
    if (await hasOpenShiftAt(tx, caller.businessId, id)) {
      throw unprocessable('A shift is open at this location: close it first', [
        { path: 'id', message: 'Has an open shift', code: 'open_shift' },
      ]);
    }
    await repo.updateLocation(tx, caller.businessId, id, { archived: true });
  });
}
