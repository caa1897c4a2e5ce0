import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import { clampLimit, decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { notFound } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import * as repo from './catalog.repo.js';
import type { Category } from './catalog.schemas.js';
import { beginCatalogWrite, toCategory, toProduct, writeProductEvent } from './catalog.service.js';
import { withUniqueFields } from './unique-fields.js';

type CategoryCursor = [string, string];
const isCategoryCursor = (values: unknown[]): values is CategoryCursor =>
  values.length === 2 &&
  typeof values[0] === 'string' &&
  typeof values[1] === 'string' &&
  UUID_PATTERN.test(values[1]);

/** Categories by name. */
export async function listCategories(
  deps: AppDeps,
  caller: Caller,
  query: { limit?: number; cursor?: string },
): Promise<{ data: Category[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const after = query.cursor ? decodeCursor(query.cursor, isCategoryCursor) : undefined;
  const rows = await repo.listCategories(deps.db, caller.businessId, {
    after: after ? { name: after[0], id: after[1] } : undefined,
    limit,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toCategory),
    nextCursor: rows.length > limit && last ? encodeCursor([last.name, last.id]) : null,
  };
}

/** Creates a category; names are unique per business, case-insensitively (409 `name`). */
export async function createCategory(
  deps: AppDeps,
  caller: Caller,
  name: string,
): Promise<Category> {
  return withUniqueFields(async () =>
    toCategory(
      await repo.insertCategory(deps.db, { id: newId(), businessId: caller.businessId, name }),
    ),
  );
}

/** Renames a category. */
export async function renameCategory(
  deps: AppDeps,
  caller: Caller,
  id: string,
  name: string,
): Promise<Category> {
  return withUniqueFields(async () => {
    const row = await repo.renameCategory(deps.db, caller.businessId, id, name);
    if (!row) throw notFound('Category');
    return toCategory(row);
  });
}

/**
 * Deletes a category. Its products (archived ones too) lose their categoryId in the same
 * transaction — an edit of each, so devices learn it through the delta sync.
 */
export async function deleteCategory(deps: AppDeps, caller: Caller, id: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    if (!(await repo.findCategory(tx, caller.businessId, id))) throw notFound('Category');
    const stamp = await beginCatalogWrite(tx, caller.businessId);
    const detached = await repo.detachCategory(tx, caller.businessId, id, stamp);
    for (const row of detached) {
      await writeProductEvent(
        tx,
        caller.businessId,
        'product.updated',
        toProduct(deps.config, row),
      );
    }
    await repo.deleteCategory(tx, caller.businessId, id);
  });
}
