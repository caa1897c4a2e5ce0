import { STOCK_MOVEMENT_TYPES } from '../../db/schema/index.js';
import { NextCursor, pageItems } from '../../lib/cursor.js';
import { timestamp, z } from '../../lib/zod.js';
import { ProductSchema, QuantityValue } from '../catalog/catalog.schemas.js';
import { MAX_ADJUSTMENT } from './inventory.rules.js';

const MAX_UNIT_COST = 1_000_000_000;
const NOTE_MAX = 500;
const MAX_ADJUSTMENT_ITEMS = 100;

export const AdjustmentItem = z
  .strictObject({
    productId: z.uuid(),
    type: z.enum(['receive', 'adjust', 'count']).openapi({
      description:
        '`receive` adds a positive quantity, `adjust` adds a signed non-zero delta, `count` sets the level',
    }),
    quantity: QuantityValue.min(-MAX_ADJUSTMENT).max(MAX_ADJUSTMENT),
    unitCost: z.int().min(0).max(MAX_UNIT_COST).optional().meta({ description: 'Cents per unit' }),
    note: z.string().trim().max(NOTE_MAX).optional(),
    locationId: z.uuid().optional().openapi({
      description: "Where the stock is; omitted → the caller's only location, else the default",
    }),
  })
  .superRefine((item, context) => {
    const problem =
      item.type === 'receive' && item.quantity <= 0
        ? 'must be positive for receive'
        : item.type === 'adjust' && item.quantity === 0
          ? 'must not be 0 for adjust'
          : item.type === 'count' && item.quantity < 0
            ? 'must not be negative for count (it is the level counted)'
            : undefined;
    if (problem) context.addIssue({ code: 'custom', path: ['quantity'], message: problem });
  });

export const AdjustmentBody = z
  .strictObject({ items: z.array(AdjustmentItem).min(1).max(MAX_ADJUSTMENT_ITEMS) })
  .meta({ id: 'StockAdjustment' });
export type AdjustmentInput = z.output<typeof AdjustmentBody>;

export const StockMovementSchema = z
  .object({
    id: z.uuid(),
    productId: z.uuid(),
    locationId: z.uuid(),
    type: z.enum(STOCK_MOVEMENT_TYPES),
    delta: z.number().meta({ description: 'The signed change this movement made' }),
    quantityAfter: z
      .number()
      .meta({ description: "The level at the movement's location after it" }),
    unitCost: z.int().min(0).max(MAX_UNIT_COST).optional(),
    note: z.string().max(NOTE_MAX).optional(),
    saleId: z.uuid().optional(),
    transferId: z
      .uuid()
      .optional()
      .meta({ description: 'Pairs the transfer_out and transfer_in of one transfer' }),
    createdBy: z.uuid(),
    createdAt: timestamp(),
  })
  .meta({ id: 'StockMovement', description: 'One entry of the stock ledger.' });
export type StockMovement = z.infer<typeof StockMovementSchema>;

export const AdjustmentResultSchema = z
  .object({ movements: z.array(StockMovementSchema).max(MAX_ADJUSTMENT_ITEMS) })
  .meta({ id: 'StockAdjustmentResult' });

export const MovementListSchema = z
  .object({ data: pageItems(StockMovementSchema), nextCursor: NextCursor })
  .meta({ id: 'StockMovementList' });

const Limit = z
  .string()
  .regex(/^\d{1,4}$/)
  .max(4)
  .transform(Number)
  .optional()
  .openapi({ description: 'Page size: default 50, above 200 clamped to 200' });

export const ListMovementsQuery = z.object({
  productId: z.uuid().optional(),
  locationId: z.uuid().optional(),
  cursor: z.string().max(512).optional(),
  limit: Limit,
});

export const LowStockQuery = z.object({
  locationId: z.uuid().optional(),
  cursor: z.string().max(512).optional(),
  limit: Limit,
});

export const LowStockItemSchema = ProductSchema.extend({
  locationId: z.uuid(),
  quantity: z.number().meta({ description: 'The level at this location' }),
}).meta({
  id: 'LowStockItem',
  description: 'A product at or under its lowStockThreshold at one location',
});
export type LowStockItem = z.infer<typeof LowStockItemSchema>;

export const LowStockListSchema = z
  .object({ data: pageItems(LowStockItemSchema), nextCursor: NextCursor })
  .meta({ id: 'LowStockList' });

export const TransferItem = z.strictObject({
  productId: z.uuid(),
  quantity: QuantityValue.min(0.001).max(MAX_ADJUSTMENT),
});

export const TransferBody = z
  .strictObject({
    fromLocationId: z.uuid(),
    toLocationId: z.uuid(),
    items: z.array(TransferItem).min(1).max(MAX_ADJUSTMENT_ITEMS),
    note: z.string().trim().max(NOTE_MAX).optional(),
  })
  .meta({ id: 'StockTransfer' });
export type TransferInput = z.output<typeof TransferBody>;

export const TransferResultSchema = z
  .object({ movements: z.array(StockMovementSchema).max(2 * MAX_ADJUSTMENT_ITEMS) })
  .meta({ id: 'StockTransferResult' });
