import { violatedUniqueConstraint } from '../../db/pg-errors.js';
import { conflict } from '../../lib/errors.js';

const UNIQUE_FIELDS: Record<string, string> = {
  products_business_sku_unique: 'sku',
  products_business_barcode_unique: 'barcode',
  categories_business_name_unique: 'name',
};

/** A unique violation on a known constraint becomes 409 naming the field. */
export async function withUniqueFields<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const field = uniqueViolationField(error);
    if (field)
      throw conflict(
        `Another ${field === 'name' ? 'category' : 'product'} already uses this ${field}`,
        field,
      );
    throw error;
  }
}

function uniqueViolationField(error: unknown): string | undefined {
  const constraint = violatedUniqueConstraint(error);
  return constraint === undefined ? undefined : UNIQUE_FIELDS[constraint];
}
