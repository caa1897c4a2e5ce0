import type { AppDeps } from '../../deps.js';
import { clampLimit, decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import type { Caller } from '../auth/caller.js';
import { toProduct } from '../catalog/catalog.service.js';
import { readScope, resolveWriteLocation } from '../locations/location-access.js';
import * as repo from './inventory.repo.js';
import type {
  AdjustmentInput,
  LowStockItem,
  StockMovement,
  TransferInput,
} from './inventory.schemas.js';
import { applyStockChanges, toMovement } from './stock-ledger.js';

export { applyStockChanges, toMovement, type StockChange } from './stock-ledger.js';

/** POST /inventory/adjustments: receive, adjust and count in one transaction. */
export async function adjustStock(
  deps: AppDeps,
  caller: Caller,
  input: AdjustmentInput,
): Promise<{ movements: StockMovement[] }> {
  const movements = await deps.db.transaction(async (tx) => {
    // Each item's location, resolved once per distinct value (404 unknown, 403 outside the
    // caller's assignment, 422 archived).
    const resolved = new Map<string | undefined, string>();
    for (const [index, item] of input.items.entries()) {
      if (resolved.has(item.locationId)) continue;
      const location = await resolveWriteLocation(tx, caller, item.locationId, {
        unknown: 'not_found',
        allowArchived: false,
        path: `items.${index}.locationId`,
      });
      resolved.set(item.locationId, location.id);
    }
    return applyStockChanges(
      tx,
      caller,
      input.items.map((item) => ({
        productId: item.productId,
        locationId: resolved.get(item.locationId) ?? '',
        type: item.type,
        quantity: item.quantity,
        unitCost: item.unitCost,
        note: item.note,
      })),
    );
  });
  return { movements };
}

/**
 * POST /inventory/transfers: for each item a `transfer_out` at the source and a
 * `transfer_in` at the destination, sharing one transferId, in one transaction. The source
 * may go below zero (as a sale may: the shelf, not the books, is the truth).
 */
export async function transferStock(
  deps: AppDeps,
  caller: Caller,
  input: TransferInput,
): Promise<{ movements: StockMovement[] }> {
  if (input.fromLocationId === input.toLocationId) {
    throw unprocessable('A transfer moves stock between two different locations', [
      { path: 'toLocationId', message: 'Same as fromLocationId', code: 'same_location' },
    ]);
  }
  const movements = await deps.db.transaction(async (tx) => {
    const from = await resolveWriteLocation(tx, caller, input.fromLocationId, {
      unknown: 'not_found',
      allowArchived: false,
      path: 'fromLocationId',
    });
    const to = await resolveWriteLocation(tx, caller, input.toLocationId, {
      unknown: 'not_found',
      allowArchived: false,
      path: 'toLocationId',
    });
    const transferId = newId();
    return applyStockChanges(
      tx,
      caller,
      input.items.flatMap((item, index) => [
        {
          productId: item.productId,
          locationId: from.id,
          type: 'transfer_out' as const,
          quantity: -item.quantity,
          note: input.note,
          transferId,
          path: `items.${index}`,
        },
        {
          productId: item.productId,
          locationId: to.id,
          type: 'transfer_in' as const,
          quantity: item.quantity,
          note: input.note,
          transferId,
          path: `items.${index}`,
        },
      ]),
    );
  });
  return { movements };
}

type MovementCursor = [string, string];
const isMovementCursor = (values: unknown[]): values is MovementCursor =>
  values.length === 2 &&
  typeof values[0] === 'string' &&
  !Number.isNaN(Date.parse(values[0])) &&
  typeof values[1] === 'string' &&
  UUID_PATTERN.test(values[1]);

/** The ledger, newest first, optionally for one product (404 when not the business's). */
export async function listMovements(
  deps: AppDeps,
  caller: Caller,
  query: { productId?: string; locationId?: string; cursor?: string; limit?: number },
): Promise<{ data: StockMovement[]; nextCursor: string | null }> {
  if (query.productId && !(await repo.productExists(deps.db, caller.businessId, query.productId))) {
    throw notFound('Product');
  }
  const locationIds = await readScope(deps.db, caller, query.locationId);
  const limit = clampLimit(query.limit);
  const before = query.cursor ? decodeCursor(query.cursor, isMovementCursor) : undefined;
  const rows = await repo.listMovements(deps.db, caller.businessId, {
    productId: query.productId,
    locationIds,
    before: before ? { createdAt: new Date(before[0]), id: before[1] } : undefined,
    limit,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toMovement),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
  };
}

type LowStockCursor = [string, string];
const isLowStockCursor = (values: unknown[]): values is LowStockCursor =>
  values.length === 2 &&
  values.every((value) => typeof value === 'string' && UUID_PATTERN.test(value));

/**
 * Low stock judged per location: each (tracked, non-archived product, location) whose level
 * is at or under the product's threshold, by product then location; limited to the
 * location asked for, else to the caller's assignment.
 */
export async function listLowStock(
  deps: AppDeps,
  caller: Caller,
  query: { locationId?: string; cursor?: string; limit?: number },
): Promise<{ data: LowStockItem[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const locationIds = await readScope(deps.db, caller, query.locationId);
  const after = query.cursor ? decodeCursor(query.cursor, isLowStockCursor) : undefined;
  const rows = await repo.listLowStock(deps.db, caller.businessId, { after, locationIds, limit });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map((row) => ({
      ...toProduct(deps.config, row.product),
      locationId: row.locationId,
      quantity: row.quantity,
    })),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.product.id, last.locationId]) : null,
  };
}
