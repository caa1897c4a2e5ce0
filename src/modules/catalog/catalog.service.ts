import type { AppDeps } from '../../deps.js';
import type { DbOrTx } from '../../db/client.js';
import { decodeCursor, encodeCursor, clampLimit } from '../../lib/cursor.js';
import { AppError, notFound, unprocessable } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { fileUrl } from '../../storage/storage-url.js';
import * as repo from './catalog.repo.js';
import { withUniqueFields } from './unique-fields.js';
import type {
  Category,
  CreateProductInput,
  ListProductsQueryInput,
  Product,
  UpdateProductInput,
} from './catalog.schemas.js';

export interface Caller {
  businessId: string;
  userId: string;
}

type Config = AppDeps['config'];

/** The Product resource as the API returns it (and as events carry it). */
export function toProduct(config: Config, row: repo.ProductRow): Product {
  return {
    id: row.id,
    name: row.name,
    ...(row.sku !== null ? { sku: row.sku } : {}),
    ...(row.barcode !== null ? { barcode: row.barcode } : {}),
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.categoryId !== null ? { categoryId: row.categoryId } : {}),
    price: row.price,
    ...(row.cost !== null ? { cost: row.cost } : {}),
    taxRate: row.taxRate,
    unit: row.unit,
    trackStock: row.trackStock,
    stockQuantity: row.stockQuantity,
    ...(row.lowStockThreshold !== null ? { lowStockThreshold: row.lowStockThreshold } : {}),
    ...(row.imageKey !== null ? { imageUrl: fileUrl(config, row.imageKey) } : {}),
    archived: row.archived,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toCategory(row: repo.CategoryRow): Category {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Starts a product write in `tx`: takes the business's catalog lock and returns the
 * `updatedAt` stamp to use (see lockCatalogAndStamp). Every module that changes products
 * (stock movements from sales included) calls this first, before any row lock.
 */
export function beginCatalogWrite(tx: DbOrTx, businessId: string): Promise<Date> {
  return repo.lockCatalogAndStamp(tx, businessId);
}

/** The stamp for the `index`-th product (in id order) a transaction changes: unique per business. */
export const stampOf = repo.stampOf;

/** Creates a product (stock starts at 0: levels only ever change through the ledger). */
export async function createProduct(
  deps: AppDeps,
  caller: Caller,
  input: CreateProductInput,
): Promise<Product> {
  return withUniqueFields(() =>
    deps.db.transaction(async (tx) => {
      if (input.categoryId) await assertCategory(tx, caller.businessId, input.categoryId);
      const stamp = await beginCatalogWrite(tx, caller.businessId);
      const row = await repo.insertProduct(tx, {
        id: newId(),
        businessId: caller.businessId,
        ...input,
        createdAt: stamp,
        updatedAt: stamp,
      });
      const product = toProduct(deps.config, row);
      await writeProductEvent(tx, caller.businessId, 'product.created', product);
      return product;
    }),
  );
}

export async function getProduct(deps: AppDeps, caller: Caller, id: string): Promise<Product> {
  const row = await repo.findProduct(deps.db, caller.businessId, id);
  if (!row) throw notFound('Product');
  return toProduct(deps.config, row);
}

type ProductCursor = [string, string];
const isProductCursor = (values: unknown[]): values is ProductCursor =>
  values.length === 2 &&
  typeof values[0] === 'string' &&
  !Number.isNaN(Date.parse(values[0])) &&
  typeof values[1] === 'string' &&
  UUID_PATTERN.test(values[1]);

/** A page of products ordered by (updatedAt, id); see GET /products. */
export async function listProducts(
  deps: AppDeps,
  caller: Caller,
  query: ListProductsQueryInput,
): Promise<{ data: Product[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const after = query.cursor ? decodeCursor(query.cursor, isProductCursor) : undefined;
  const rows = await repo.listProducts(deps.db, caller.businessId, {
    q: query.q,
    categoryId: query.categoryId,
    updatedSince: query.updatedSince ? new Date(query.updatedSince) : undefined,
    includeArchived: query.includeArchived ?? false,
    after: after ? { updatedAt: new Date(after[0]), id: after[1] } : undefined,
    limit,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map((row) => toProduct(deps.config, row)),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.updatedAt.toISOString(), last.id]) : null,
  };
}

/** Edits a product; `expectedVersion` (If-Match) makes a stale edit a 412. */
export async function updateProduct(
  deps: AppDeps,
  caller: Caller,
  id: string,
  input: UpdateProductInput,
  expectedVersion?: number,
): Promise<Product> {
  return withUniqueFields(() =>
    deps.db.transaction(async (tx) => {
      if (input.categoryId) await assertCategory(tx, caller.businessId, input.categoryId);
      const stamp = await beginCatalogWrite(tx, caller.businessId);
      const row = await repo.updateProduct(
        tx,
        caller.businessId,
        id,
        input,
        stamp,
        expectedVersion,
      );
      if (!row) {
        const existing = await repo.findProduct(tx, caller.businessId, id);
        if (!existing) throw notFound('Product');
        throw new AppError(
          'PRECONDITION_FAILED',
          `The product is at version ${existing.version}, not ${expectedVersion}; fetch it and reapply your change`,
        );
      }
      const product = toProduct(deps.config, row);
      await writeProductEvent(tx, caller.businessId, 'product.updated', product);
      return product;
    }),
  );
}

/** Archives a product (DELETE): it stays as a tombstone for delta sync; archiving twice is a no-op. */
export async function archiveProduct(deps: AppDeps, caller: Caller, id: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const existing = await repo.findProduct(tx, caller.businessId, id);
    if (!existing) throw notFound('Product');
    if (existing.archived) return;
    const stamp = await beginCatalogWrite(tx, caller.businessId);
    const row = await repo.updateProduct(tx, caller.businessId, id, { archived: true }, stamp);
    if (!row) throw notFound('Product');
    const product = toProduct(deps.config, row);
    await writeProductEvent(tx, caller.businessId, 'product.archived', product);
  });
}

/** Points a product at a newly stored image (an edit: bumps version, emits product.updated). */
export async function setProductImage(
  deps: AppDeps,
  caller: Caller,
  id: string,
  imageKey: string,
): Promise<Product> {
  return deps.db.transaction(async (tx) => {
    const stamp = await beginCatalogWrite(tx, caller.businessId);
    const row = await repo.updateProduct(tx, caller.businessId, id, { imageKey }, stamp);
    if (!row) throw notFound('Product');
    const product = toProduct(deps.config, row);
    await writeProductEvent(tx, caller.businessId, 'product.updated', product);
    return product;
  });
}

/** 404 unless the product exists in the caller's business (checked before reading an upload). */
export async function assertProductExists(deps: AppDeps, caller: Caller, id: string) {
  if (!(await repo.findProduct(deps.db, caller.businessId, id))) throw notFound('Product');
}

async function assertCategory(tx: DbOrTx, businessId: string, categoryId: string) {
  // Another business's category is indistinguishable from a missing one: 422, not 404,
  // because the product URL itself is fine — the body names something unusable.
  if (!(await repo.findCategory(tx, businessId, categoryId))) {
    throw unprocessable('categoryId does not name a category of this business', [
      { path: 'categoryId', message: 'No such category', code: 'not_found' },
    ]);
  }
}

/** Writes a product event (the Product resource as payload) in the caller's transaction. */
export async function writeProductEvent(
  tx: DbOrTx,
  businessId: string,
  type: 'product.created' | 'product.updated' | 'product.archived',
  product: Product,
) {
  await writeOutbox(tx, { kind: 'event', type, businessId, payload: product });
}
