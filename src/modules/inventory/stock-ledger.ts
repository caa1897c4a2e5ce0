import type { DbOrTx } from '../../db/client.js';
import type { StockMovementType } from '../../db/schema/index.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { AppError, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { beginCatalogWrite, stampOf } from '../catalog/catalog.service.js';
import * as repo from './inventory.repo.js';
import {
  crossesLowStock,
  fromMilli,
  MAX_STOCK_LEVEL,
  movementDeltaMilli,
  toMilli,
} from './inventory.rules.js';
import type { StockMovement } from './inventory.schemas.js';

/**
 * One change to a product's stock at a location. For `count`, `quantity` is the level
 * counted there; for every other type it is the signed change (a sale is negative).
 */
export interface StockChange {
  productId: string;
  locationId: string;
  type: StockMovementType;
  quantity: number;
  unitCost?: number;
  note?: string;
  saleId?: string;
  transferId?: string;
  /** `errors[].path` prefix of this change in the request (default `items.<index>`). */
  path?: string;
}

export function toMovement(row: repo.MovementRow): StockMovement {
  return {
    id: row.id,
    productId: row.productId,
    // Every row has one once the 0004 backfill ran (src/db/backfills.ts).
    locationId: row.locationId ?? '',
    type: row.type,
    delta: row.delta,
    quantityAfter: row.quantityAfter,
    ...(row.unitCost !== null ? { unitCost: row.unitCost } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
    ...(row.saleId !== null ? { saleId: row.saleId } : {}),
    ...(row.transferId !== null ? { transferId: row.transferId } : {}),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

const pairKey = (productId: string, locationId: string) => `${productId}/${locationId}`;

/**
 * Records stock movements inside the caller's transaction `tx` — the one way stock changes
 * outside the sale statement (adjustments, transfers, voids). Takes the catalog lock, then
 * row-locks the products in id order (every stock writer does: no deadlock, and the levels
 * read next are the committed ones), appends one ledger row per change, sets each touched
 * (product, location) level and each product's total (product_stock: quantity, and
 * changed_at — the presented updatedAt — so the delta sync sees the change; the product
 * row itself is not rewritten), and writes `inventory.low_stock` for each location
 * where a product crosses its threshold. 404 when a product is not the business's.
 * The ledger rule: a level is the sum of its pair's deltas; stockQuantity the sum of all.
 */
export async function applyStockChanges(
  tx: DbOrTx,
  caller: { businessId: string; userId: string },
  changes: StockChange[],
): Promise<StockMovement[]> {
  const stamp = await beginCatalogWrite(tx, caller.businessId);
  const ids = [...new Set(changes.map((change) => change.productId))].sort();
  const locked = await repo.lockProducts(tx, caller.businessId, ids);
  const byId = new Map(locked.map((row) => [row.id, row]));
  const missing = changes.findIndex((change) => !byId.has(change.productId));
  if (missing !== -1) {
    const change = changes[missing];
    throw new AppError('NOT_FOUND', `Product ${change?.productId} not found`, {
      errors: [
        {
          path: `${change?.path ?? `items.${missing}`}.productId`,
          message: 'No such product',
          code: 'not_found',
        },
      ],
    });
  }

  const levelRows = await repo.findLevels(tx, caller.businessId, ids);
  const levels = new Map(
    levelRows.map((row) => [pairKey(row.productId, row.locationId), toMilli(row.quantity)]),
  );
  const totals = new Map(locked.map((row) => [row.id, toMilli(row.stockQuantity)]));
  // A (product, location) that crosses its threshold at any movement of this transaction
  // (4 → 24 → 2 included) and is still at or under it at the end gets one alert.
  const crossed = new Set<string>();
  const touched = new Set<string>();
  const movements = changes.map((change, index) => {
    const product = byId.get(change.productId);
    if (!product) throw new Error('checked above');
    const key = pairKey(change.productId, change.locationId);
    const current = levels.get(key) ?? 0;
    const delta = movementDeltaMilli(change.type, toMilli(change.quantity), current);
    const after = current + delta;
    const total = (totals.get(change.productId) ?? 0) + delta;
    if (Math.abs(after) > toMilli(MAX_STOCK_LEVEL) || Math.abs(total) > toMilli(MAX_STOCK_LEVEL)) {
      throw unprocessable(`The stock level would leave ±${MAX_STOCK_LEVEL}`, [
        {
          path: `${change.path ?? `items.${index}`}.quantity`,
          message: 'Stock level out of range',
          code: 'too_big',
        },
      ]);
    }
    if (crossesLowStock(lowStockState(product), current, after)) crossed.add(key);
    levels.set(key, after);
    totals.set(change.productId, total);
    touched.add(key);
    return {
      id: newId(),
      businessId: caller.businessId,
      productId: change.productId,
      locationId: change.locationId,
      type: change.type,
      delta: fromMilli(delta),
      quantityAfter: fromMilli(after),
      unitCost: change.unitCost ?? null,
      note: change.note ?? null,
      saleId: change.saleId ?? null,
      transferId: change.transferId ?? null,
      createdBy: caller.userId,
      createdAt: stamp,
    };
  });

  const rows = await repo.insertMovements(tx, movements);
  await repo.upsertLevels(
    tx,
    [...touched].sort().map((key) => {
      const [productId, locationId] = key.split('/') as [string, string];
      return {
        businessId: caller.businessId,
        productId,
        locationId,
        quantity: fromMilli(levels.get(key) ?? 0),
        updatedAt: stamp,
      };
    }),
  );
  // `locked` is in id order: each product gets its own stamp (see lockCatalogAndStamp).
  await repo.setStockQuantities(
    tx,
    caller.businessId,
    locked.map((product, index) => ({
      productId: product.id,
      quantity: fromMilli(totals.get(product.id) ?? toMilli(product.stockQuantity)),
      changedAt: stampOf(stamp, index),
    })),
  );
  for (const key of [...crossed].sort()) {
    const [productId, locationId] = key.split('/') as [string, string];
    const product = byId.get(productId);
    if (!product) continue;
    const threshold = lowStockState(product).lowStockThresholdMilli;
    const after = levels.get(key) ?? 0;
    if (threshold === null || after > threshold) continue;
    await writeOutbox(tx, {
      kind: 'event',
      type: 'inventory.low_stock',
      businessId: caller.businessId,
      payload: {
        productId,
        locationId,
        name: product.name,
        sku: product.sku,
        quantity: fromMilli(after),
        stockQuantity: fromMilli(totals.get(productId) ?? 0),
        lowStockThreshold: product.lowStockThreshold,
      },
    });
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
