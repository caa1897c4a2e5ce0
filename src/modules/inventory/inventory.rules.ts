import type { StockMovementType } from '../../db/schema/index.js';

/**
 * Stock arithmetic in integer thousandths, so 0.1 + 0.2 is exactly 0.3 and the cached
 * stockQuantity (product_stock.quantity) always equals the sum of the ledger's deltas.
 */
export const toMilli = (quantity: number): number => Math.round(quantity * 1000);
export const fromMilli = (milli: number): number => milli / 1000;

/** A single adjustment moves at most this much (|quantity|). */
export const MAX_ADJUSTMENT = 1_000_000;
/** A stock level must stay within this (numeric(14,3) holds more; this keeps sums safe). */
export const MAX_STOCK_LEVEL = 1_000_000_000;

/**
 * The signed change (in thousandths) a movement makes. For `count` the quantity is the
 * level counted, so the delta is the new level minus the current one; for every other
 * type the quantity is already the signed change.
 */
export function movementDeltaMilli(
  type: StockMovementType,
  quantityMilli: number,
  currentMilli: number,
): number {
  return type === 'count' ? quantityMilli - currentMilli : quantityMilli;
}

export interface LowStockState {
  trackStock: boolean;
  archived: boolean;
  lowStockThresholdMilli: number | null;
}

/** True when a level moves from above the threshold to at or below it (the alert moment). */
export function crossesLowStock(
  product: LowStockState,
  beforeMilli: number,
  afterMilli: number,
): boolean {
  const threshold = product.lowStockThresholdMilli;
  return (
    product.trackStock &&
    !product.archived &&
    threshold !== null &&
    beforeMilli > threshold &&
    afterMilli <= threshold
  );
}
