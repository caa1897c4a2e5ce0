import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import type { DbOrTx } from '../../db/client.js';
import { decodeCursor, encodeCursor, clampLimit } from '../../lib/cursor.js';
import { AppError, notFound, unprocessable } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { fileUrl } from '../../storage/storage-url.js';
import * as repo from './catalog.repo.js';
import {
  findProductPage,
  searchProductPage,
  type ProductPageParams,
} from './product-page.statement.js';
import { withUniqueFields } from './unique-fields.js';
import { cachedEntity, type CachedEntity } from './catalog-cache.js';
import { noteCatalogWrite } from './catalog-version.js';
import { effectiveTaxType, resolveTaxType, type TaxType } from './tax-type.rules.js';
import { queueItemRegistration } from '../etims/etims-items.js';
import type {
  Category,
  CreateProductInput,
  ListProductsQueryInput,
  Product,
  UpdateProductInput,
} from './catalog.schemas.js';

type Config = AppDeps['config'];

/**
 * The Product resource as the API returns it (and as events carry it). GET /products has
 * PostgreSQL render the same JSON (product-page.statement.ts): change both together;
 * test/catalog/product-page.test.ts fails when they differ.
 */
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
    ...(effectiveTaxType(row) !== undefined ? { taxType: effectiveTaxType(row) } : {}),
    ...(row.etimsItemClassCode !== null ? { etimsItemClassCode: row.etimsItemClassCode } : {}),
    unit: row.unit,
    trackStock: row.trackStock,
    stockQuantity: row.stockQuantity,
    stock: row.stock.map((entry) => ({ locationId: entry.locationId, quantity: entry.quantity })),
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
 * (stock movements from sales included) calls this first, before any row lock. It also
 * notes the write, so the transaction bumps the catalog version once settled
 * (catalog-version.ts): cached pages never outlive the write.
 */
export function beginCatalogWrite(tx: DbOrTx, businessId: string): Promise<Date> {
  noteCatalogWrite(tx, businessId);
  return repo.lockCatalogAndStamp(tx, businessId);
}

/** The stamp for the `index`-th product (in id order) a transaction changes: unique per business. */
export const stampOf = repo.stampOf;

/** The tax fields a write stores, or 422 naming the field that disagrees. */
function taxOrThrow(choice: ReturnType<typeof resolveTaxType>): {
  taxType: TaxType;
  taxRate: number;
} {
  if (!choice.ok) {
    throw unprocessable(choice.message, [
      { path: choice.field, message: choice.message, code: 'tax_type_mismatch' },
    ]);
  }
  return { taxType: choice.taxType, taxRate: choice.taxRate };
}

/** Creates a product (stock starts at 0: levels only ever change through the ledger). */
export async function createProduct(
  deps: AppDeps,
  caller: Caller,
  input: CreateProductInput,
): Promise<Product> {
  return withUniqueFields(() =>
    deps.db.transaction(async (tx) => {
      if (input.categoryId) await assertCategory(tx, caller.businessId, input.categoryId);
      const tax = taxOrThrow(resolveTaxType(input));
      const stamp = await beginCatalogWrite(tx, caller.businessId);
      const row = await repo.insertProduct(tx, {
        id: newId(),
        businessId: caller.businessId,
        ...input,
        ...tax,
        createdAt: stamp,
        updatedAt: stamp,
      });
      const product = toProduct(deps.config, row);
      await writeProductEvent(tx, caller.businessId, 'product.created', product);
      await queueItemRegistration(tx, caller.businessId, row.id);
      return product;
    }),
  );
}

export async function getProduct(deps: AppDeps, caller: Caller, id: string): Promise<Product> {
  const row = await repo.findProduct(deps.db, caller.businessId, id);
  if (!row) throw notFound('Product');
  return toProduct(deps.config, row);
}

/** GET /products/{id} through the catalog cache (catalog-cache.ts): its JSON and ETag. */
export function getProductEntity(
  deps: AppDeps,
  caller: Caller,
  id: string,
  ifNoneMatch: string,
): Promise<CachedEntity> {
  // Ids are matched case-insensitively by PostgreSQL: one entry per product, whatever the case.
  const key = ['product', id.toLowerCase(), fileUrl(deps.config, '')];
  return cachedEntity(deps, caller.businessId, key, ifNoneMatch, async () =>
    JSON.stringify(await getProduct(deps, caller, id)),
  );
}

type ProductCursor = [string, string];
/** Years 1–9999: the instants toISOString() and PostgreSQL both write as YYYY-MM-DD…. */
const EARLIEST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
/** Cursors carry the sort key exactly as toISOString() wrote it (years 1–9999). */
const isCursorInstant = (value: unknown): value is string =>
  typeof value === 'string' &&
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) &&
  Date.parse(value) >= EARLIEST_INSTANT &&
  new Date(value).toISOString() === value;
const isProductCursor = (values: unknown[]): values is ProductCursor =>
  values.length === 2 &&
  isCursorInstant(values[0]) &&
  typeof values[1] === 'string' &&
  UUID_PATTERN.test(values[1]);

/**
 * The exclusive (updatedAt, id) bound a page starts after: `updatedSince=T` is (T, max
 * uuid), i.e. every row stamped later than T; a cursor is the last row already returned;
 * with both, the later of the two; with neither, before everything.
 */
function pageStart(
  updatedSince: string | undefined,
  cursor: ProductCursor | undefined,
): { updatedAt: string; id: string } {
  const since = updatedSince === undefined ? undefined : new Date(updatedSince).getTime();
  const after = cursor === undefined ? undefined : Date.parse(cursor[0]);
  if (since !== undefined && (after === undefined || since >= after)) {
    // A valid updatedSince may lie outside years 1–9999 (0000-01-01T00:00:00Z, or
    // 9999-12-31T23:59:59-14:00), which PostgreSQL cannot parse: it means "everything"
    // or "nothing".
    if (since < EARLIEST_INSTANT) return { updatedAt: '-infinity', id: NIL_UUID };
    if (since > LATEST_INSTANT) return { updatedAt: 'infinity', id: MAX_UUID };
    return { updatedAt: new Date(since).toISOString(), id: MAX_UUID };
  }
  return cursor
    ? { updatedAt: cursor[0], id: cursor[1] }
    : { updatedAt: '-infinity', id: NIL_UUID };
}

/** `q` as an ilike pattern matching it as a literal substring. */
const substringPattern = (q: string) => `%${q.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** What a page of GET /products is rendered from: everything it depends on. */
function productPageQuery(deps: AppDeps, caller: Caller, query: ListProductsQueryInput) {
  const limit = clampLimit(query.limit);
  const cursor = query.cursor ? decodeCursor(query.cursor, isProductCursor) : undefined;
  const start = pageStart(query.updatedSince, cursor);
  const params: ProductPageParams = {
    businessId: caller.businessId,
    fromUpdatedAt: start.updatedAt,
    fromId: start.id,
    // A delta sync must see tombstones, so updatedSince always includes archived products.
    includeArchived: (query.includeArchived ?? false) || query.updatedSince !== undefined,
    categoryId: query.categoryId ?? null,
    limit,
    imageUrlPrefix: fileUrl(deps.config, ''),
  };
  return { params, pattern: query.q ? substringPattern(query.q) : null };
}

/**
 * A page of products ordered by (updatedAt, id) (see GET /products), as the JSON text of
 * `{data, nextCursor}`: PostgreSQL renders the products (product-page.statement.ts), so
 * the page is neither mapped nor re-serialised here. Always from PostgreSQL (the cache's
 * renderer; tests compare the cache with it).
 */
export async function listProductsJson(
  deps: AppDeps,
  caller: Caller,
  query: ListProductsQueryInput,
): Promise<string> {
  return renderProductPage(deps, productPageQuery(deps, caller, query));
}

async function renderProductPage(
  deps: AppDeps,
  { params, pattern }: ReturnType<typeof productPageQuery>,
): Promise<string> {
  const page = pattern
    ? await searchProductPage(deps.db, params, pattern)
    : await findProductPage(deps.hotDb, params); // generic plan (deps.ts)
  const nextCursor =
    page.more && page.last_updated_at !== null && page.last_id !== null
      ? encodeCursor([page.last_updated_at, page.last_id])
      : null;
  return `{"data":[${page.items}],"nextCursor":${JSON.stringify(nextCursor)}}`;
}

/**
 * GET /products through the catalog cache (catalog-cache.ts), keyed by the normalised
 * statement parameters (two spellings of one page share an entry): the page's JSON and ETag.
 */
export function listProductsEntity(
  deps: AppDeps,
  caller: Caller,
  query: ListProductsQueryInput,
  ifNoneMatch: string,
): Promise<CachedEntity> {
  const pageQuery = productPageQuery(deps, caller, query);
  return cachedEntity(deps, caller.businessId, ['page', pageQuery], ifNoneMatch, () =>
    renderProductPage(deps, pageQuery),
  );
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
      let changes = input;
      if (input.taxType !== undefined || input.taxRate !== undefined) {
        const existing = await repo.findProduct(tx, caller.businessId, id);
        if (!existing) throw notFound('Product');
        const current = { taxType: effectiveTaxType(existing), taxRate: existing.taxRate };
        changes = { ...input, ...taxOrThrow(resolveTaxType(input, current)) };
      }
      const stamp = await beginCatalogWrite(tx, caller.businessId);
      const row = await repo.updateProduct(
        tx,
        caller.businessId,
        id,
        changes,
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
      await queueItemRegistration(tx, caller.businessId, row.id);
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
