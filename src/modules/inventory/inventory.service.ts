import type { AppDeps } from '../../deps.js';
import type { DbOrTx } from '../../db/client.js';
import type { StockMovementType } from '../../db/schema/index.js';
import { writeOutbox } from '../../jobs/outbox.js';
import {
  clampLimit,
  decodeCursor,
  decodeIdCursor,
  encodeCursor,
  toIdPage,
} from '../../lib/cursor.js';
import { AppError, notFound, unprocessable } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import type { Caller } from '../auth/caller.js';
import { beginCatalogWrite, stampOf, toProduct } from '../catalog/catalog.service.js';
import type { Product } from '../catalog/catalog.schemas.js';
import * as repo from './inventory.repo.js';
import {
  crossesLowStock,
  fromMilli,
  MAX_STOCK_LEVEL,
  movementDeltaMilli,
  toMilli,
} from './inventory.rules.js';
import type { AdjustmentInput, StockMovement } from './inventory.schemas.js';

/**
 * One change to a product's stock. For `count`, `quantity` is the level counted; for every
 * other type it is the signed change (a sale is negative, its void positive).
 */
export interface StockChange {
  productId: string;
  type: StockMovementType;
  quantity: number;
  unitCost?: number;
  note?: string;
  saleId?: string;
}

export function toMovement(row: repo.MovementRow): StockMovement {
  return {
    id: row.id,
    productId: row.productId,
    type: row.type,
    delta: row.delta,
    quantityAfter: row.quantityAfter,
    ...(row.unitCost !== null ? { unitCost: row.unitCost } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
    ...(row.saleId !== null ? { saleId: row.saleId } : {}),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * Records stock movements inside the caller's transaction `tx` — the one way stock changes
 * (adjustments here, sales and voids from the sales module). Takes the catalog lock, then
 * row-locks the products in id order, appends one ledger row per change and sets each
 * product's stockQuantity to its old value plus the sum of its deltas, and writes
 * `inventory.low_stock` for every product that crosses its threshold. 404 when a product
 * is not the business's.
 */
export async function applyStockChanges(
  tx: DbOrTx,
  caller: Caller,
  changes: StockChange[],
): Promise<StockMovement[]> {
  const stamp = await beginCatalogWrite(tx, caller.businessId);
  const ids = [...new Set(changes.map((change) => change.productId))].sort();
  const locked = await repo.lockProducts(tx, caller.businessId, ids);
  const byId = new Map(locked.map((row) => [row.id, row]));
  const missing = changes.findIndex((change) => !byId.has(change.productId));
  if (missing !== -1) {
    throw new AppError('NOT_FOUND', `Product ${changes[missing]?.productId} not found`, {
      errors: [
        { path: `items.${missing}.productId`, message: 'No such product', code: 'not_found' },
      ],
    });
  }

  const levels = new Map(locked.map((row) => [row.id, toMilli(row.stockQuantity)]));
  // A product that crosses its threshold at any movement of this transaction (4 → 24 → 2
  // included) and is still at or under it at the end gets one alert.
  const crossed = new Set<string>();
  const movements = changes.map((change, index) => {
    const product = byId.get(change.productId);
    const current = levels.get(change.productId) ?? 0;
    const delta = movementDeltaMilli(change.type, toMilli(change.quantity), current);
    const after = current + delta;
    if (Math.abs(after) > toMilli(MAX_STOCK_LEVEL)) {
      throw unprocessable(`The stock level would leave ±${MAX_STOCK_LEVEL}`, [
        { path: `items.${index}.quantity`, message: 'Stock level out of range', code: 'too_big' },
      ]);
    }
    if (product && crossesLowStock(lowStockState(product), current, after)) {
      crossed.add(change.productId);
    }
    levels.set(change.productId, after);
    return {
      id: newId(),
      businessId: caller.businessId,
      productId: change.productId,
      type: change.type,
      delta: fromMilli(delta),
      quantityAfter: fromMilli(after),
      unitCost: change.unitCost ?? null,
      note: change.note ?? null,
      saleId: change.saleId ?? null,
      createdBy: caller.userId,
      createdAt: stamp,
    };
  });

  const rows = await repo.insertMovements(tx, movements);
  // `locked` is in id order: each product gets its own stamp (see lockCatalogAndStamp).
  for (const [index, product] of locked.entries()) {
    const after = levels.get(product.id) ?? toMilli(product.stockQuantity);
    await repo.setStockQuantity(
      tx,
      caller.businessId,
      product.id,
      fromMilli(after),
      stampOf(stamp, index),
    );
    const threshold = lowStockState(product).lowStockThresholdMilli;
    if (crossed.has(product.id) && threshold !== null && after <= threshold) {
      await writeOutbox(tx, {
        kind: 'event',
        type: 'inventory.low_stock',
        businessId: caller.businessId,
        payload: {
          productId: product.id,
          name: product.name,
          sku: product.sku,
          stockQuantity: fromMilli(after),
          lowStockThreshold: product.lowStockThreshold,
        },
      });
    }
  }
  return rows.map(toMovement);
}

function lowStockState(product: repo.StockProductRow) {
  return {
    trackStock: product.trackStock,
    archived: product.archived,
    lowStockThresholdMilli:
      product.lowStockThreshold === null ? null : toMilli(product.lowStockThreshold),
  };
}

/** POST /inventory/adjustments: receive, adjust and count in one transaction. */
export async function adjustStock(
  deps: AppDeps,
  caller: Caller,
  input: AdjustmentInput,
): Promise<{ movements: StockMovement[] }> {
  const movements = await deps.db.transaction((tx) =>
    applyStockChanges(
      tx,
      caller,
      input.items.map((item) => ({
        productId: item.productId,
        type: item.type,
        quantity: item.quantity,
        unitCost: item.unitCost,
        note: item.note,
      })),
    ),
  );
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
  query: { productId?: string; cursor?: string; limit?: number },
): Promise<{ data: StockMovement[]; nextCursor: string | null }> {
  if (query.productId && !(await repo.productExists(deps.db, caller.businessId, query.productId))) {
    throw notFound('Product');
  }
  const limit = clampLimit(query.limit);
  const before = query.cursor ? decodeCursor(query.cursor, isMovementCursor) : undefined;
  const rows = await repo.listMovements(deps.db, caller.businessId, {
    productId: query.productId,
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

/** Tracked, non-archived products at or under their threshold, by id. */
export async function listLowStock(
  deps: AppDeps,
  caller: Caller,
  query: { cursor?: string; limit?: number },
): Promise<{ data: Product[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const afterId = decodeIdCursor(query.cursor);
  const rows = await repo.listLowStock(deps.db, caller.businessId, { afterId, limit });
  return toIdPage(rows, limit, (row) => toProduct(deps.config, row));
}
