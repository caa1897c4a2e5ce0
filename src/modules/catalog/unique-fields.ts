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
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (candidate.code === '23505' && typeof candidate.constraint === 'string') {
      return UNIQUE_FIELDS[candidate.constraint];
    }
    current = candidate.cause;
  }
  return undefined;
}
