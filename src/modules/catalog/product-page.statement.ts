import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { namedStatement } from '../../db/named-statement.js';

/**
 * GET /products pages rendered by PostgreSQL.
 *
 * Why: mapping 51 Drizzle rows (every column, timestamps through `new Date`), building a
 * Product object per row and `JSON.stringify`-ing the page was most of the route's API CPU.
 * Here PostgreSQL writes each Product as JSON text and the page as one string: Node receives
 * one value, wraps it in the envelope, hashes it for the ETag and sends it as is.
 *
 * The text is byte-for-byte what `JSON.stringify(toProduct(config, row))` gives (same field
 * order, absent optional fields left out, numbers as numbers, instants as `toISOString()`):
 * test/catalog/product-page.test.ts compares the two for every optional field set and unset
 * and for arbitrary strings. Change toProduct and this together.
 */

/** `Date.prototype.toISOString()` of a timestamptz: UTC, milliseconds, 'Z'. */
const isoInstant = (column: SQL) =>
  sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A JSON string of a text value: `to_json` escapes exactly as JSON.stringify does. */
const jsonString = (value: SQL) => sql`to_json(${value}::text)::text`;

/**
 * One Product as JSON text, in toProduct's field order. `to_json(text)` escapes as
 * JSON.stringify does (the short escapes, other control characters as lower-case \u00XX,
 * nothing else); `',"sku":' || NULL` is NULL and coalesces to '', so a null column leaves
 * its field out as toProduct does; `trim_scale` turns numeric(14,3) "2.500" into 2.5, as
 * JSON.stringify(2.5); uuids, integers and booleans (`true`/`false`) need no escaping.
 * Plain `||` of explicit `::text` casts, not `concat()`: concat looks up each argument's
 * output function on every call, which made the page ~8% dearer in PostgreSQL.
 */
const productJson = (imageUrlPrefix: unknown) => sql`(
    '{"id":"' || p.id::text || '","name":' || ${jsonString(sql`p.name`)}
    || coalesce(',"sku":' || ${jsonString(sql`p.sku`)}, '')
    || coalesce(',"barcode":' || ${jsonString(sql`p.barcode`)}, '')
    || coalesce(',"description":' || ${jsonString(sql`p.description`)}, '')
    || coalesce(',"categoryId":"' || p.category_id::text || '"', '')
    || ',"price":' || p.price::text
    || coalesce(',"cost":' || p.cost::text, '')
    || ',"taxRate":' || p.tax_rate::text
    || coalesce(',"taxType":"' || coalesce(p.tax_type, case p.tax_rate when 1600 then 'B'
      when 800 then 'E' when 0 then 'A' end) || '"', '')
    || coalesce(',"etimsItemClassCode":' || ${jsonString(sql`p.etims_item_class_code`)}, '')
    || ',"unit":' || ${jsonString(sql`p.unit`)}
    || ',"trackStock":' || p.track_stock::text
    || ',"stockQuantity":' || trim_scale(ps.quantity)::text
    || ',"stock":[' || coalesce((
      select string_agg('{"locationId":"' || sl.location_id::text || '","quantity":'
        || trim_scale(sl.quantity)::text || '}', ',' order by sl.location_id)
      from stock_levels sl where sl.business_id = p.business_id and sl.product_id = p.id), '') || ']'
    || coalesce(',"lowStockThreshold":' || trim_scale(p.low_stock_threshold)::text, '')
    || coalesce(',"imageUrl":' || ${jsonString(sql`${imageUrlPrefix}::text || p.image_key`)}, '')
    || ',"archived":' || p.archived::text
    || ',"version":' || p.version::text
    || ',"createdAt":"' || ${isoInstant(sql`p.created_at`)}
    || '","updatedAt":"' || ${isoInstant(sql`ps.changed_at`)} || '"}')`;

export interface ProductPageParams extends Record<string, unknown> {
  businessId: string;
  /** Keyset lower bound, exclusive: rows with (changed_at, product_id) greater than this. */
  fromUpdatedAt: string;
  fromId: string;
  includeArchived: boolean;
  categoryId: string | null;
  limit: number;
  /** fileUrl(config, '') — the imageUrl of a key is this prefix followed by the key. */
  imageUrlPrefix: string;
}

export interface ProductPageRow {
  /** The page's Products as JSON text, comma-separated (no brackets); '' when empty. */
  items: string;
  /** True when more rows follow this page. */
  more: boolean;
  /** The sort key of the page's last row when more follow (the next cursor), else null. */
  last_updated_at: string | null;
  last_id: string | null;
}

/**
 * A page ordered by the presented (updatedAt, id) — product_stock's (changed_at,
 * product_id), which stock changes move without rewriting the product row — with one extra
 * row fetched to tell if more follow. Every filter is a parameter with a neutral default
 * (the '-infinity' / nil-uuid bound, `includeArchived`, a null categoryId), so one
 * statement text serves the plain page, the delta and every cursor: its generic plan is an
 * index scan of product_stock_business_changed_idx (business_id, changed_at, product_id)
 * with the keyset row comparison as index condition, each row joined to its product by
 * key (test/catalog/product-page.test.ts checks the plan).
 */
export const productPageSql = (
  value: (key: keyof ProductPageParams & string) => unknown,
  extraCondition?: SQL,
) => sql`
  with page as (
    select ps.changed_at as updated_at, ps.product_id as id,
      ${productJson(value('imageUrlPrefix'))} as item
    from product_stock ps
      -- Each row's product by key. A lateral fence (offset 0), not a plain join: for the
      -- generic plan, whose keyset bound is unknown, PostgreSQL preferred a sequential scan
      -- of products, materialized, to one key lookup per row.
      cross join lateral (select * from products
        where products.id = ps.product_id and products.business_id = ps.business_id
        offset 0) p
    where ps.business_id = ${value('businessId')}::uuid
      and (ps.changed_at, ps.product_id) > (${value('fromUpdatedAt')}::timestamptz, ${value('fromId')}::uuid)
      and (not p.archived or ${value('includeArchived')}::boolean)
      and (${value('categoryId')}::uuid is null or p.category_id = ${value('categoryId')}::uuid)
      ${extraCondition ?? sql``}
    order by ps.changed_at, ps.product_id
    limit ${value('limit')}::int + 1
  ), numbered as (
    select item, updated_at, id, row_number() over (order by updated_at, id) as n from page
  )
  select coalesce(string_agg(item, ',' order by n) filter (where n <= ${value('limit')}::int), '') as items,
    count(*) > ${value('limit')}::int as more,
    min(${isoInstant(sql`updated_at`)}) filter (where n = ${value('limit')}::int) as last_updated_at,
    min(id::text) filter (where n = ${value('limit')}::int) as last_id
  from numbered`;

const productPageStatement = namedStatement<ProductPageRow, ProductPageParams>(
  'catalog_product_page',
  (p) => productPageSql(p),
);

const EMPTY_PAGE: ProductPageRow = { items: '', more: false, last_updated_at: null, last_id: null };

/** A page through the named statement (no text search). */
export async function findProductPage(
  db: DbOrTx,
  params: ProductPageParams,
): Promise<ProductPageRow> {
  const [row] = await productPageStatement(db, params);
  return row ?? EMPTY_PAGE;
}

/**
 * A page matching `pattern` (an ilike pattern) in name, sku or barcode. Not prepared: the
 * best plan depends on the pattern (three trigram GIN indexes, BitmapOr, for a rare one),
 * which a generic plan cannot know, so this one is planned per request.
 */
export async function searchProductPage(
  db: DbOrTx,
  params: ProductPageParams,
  pattern: string,
): Promise<ProductPageRow> {
  const query = productPageSql(
    (key) => params[key],
    sql`and (p.name ilike ${pattern} or p.sku ilike ${pattern} or p.barcode ilike ${pattern})`,
  );
  const result = await db.execute(query);
  return (result.rows[0] as ProductPageRow | undefined) ?? EMPTY_PAGE;
}
