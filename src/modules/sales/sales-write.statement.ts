import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { newId } from '../../lib/ids.js';
import { outboxTraceContext } from '../../observability/trace.js';
import { namedStatement, unnamedStatement, type SqlValue } from '../../db/named-statement.js';
import type {
  LockedProduct,
  MovementRow,
  SaleHeaderRow,
  SaleLineRow,
  SaleOutboxRow,
  SalePaymentRow,
} from './sales-write.repo.js';

interface WriteParams extends Record<string, unknown> {
  businessId: string;
  count: number;
  createdBy: string;
  sId: string[];
  sClientRequestId: string[];
  sRequestHash: string[];
  sReceiptNumber: (string | null)[];
  sCashierId: string[];
  sOccurredAt: string[];
  sReceivedAt: string[];
  sSubtotal: number[];
  sDiscount: number[];
  sTax: number[];
  sTotal: number[];
  sChange: number[];
  sCustomerPhone: (string | null)[];
  sNote: (string | null)[];
  lId: string[];
  lSaleId: string[];
  lProductId: string[];
  lPosition: number[];
  lName: string[];
  lSku: (string | null)[];
  lQuantity: number[];
  lUnitPrice: number[];
  lCatalogPrice: number[];
  lTaxRate: number[];
  lDiscount: number[];
  lShare: number[];
  lTax: number[];
  lTotal: number[];
  pId: string[];
  pSaleId: string[];
  pPosition: number[];
  pMethod: string[];
  pAmount: number[];
  pReference: (string | null)[];
  levelProductId: string[];
  levelQuantity: number[];
  mId: string[];
  mSaleId: string[];
  mProductId: string[];
  mDelta: number[];
  mQuantityAfter: number[];
  mMessageId: string[];
  oMessageId: string[];
  oSaleId: string[];
  oPayload: string[];
  /** The request's W3C trace context, saved with its outbox rows (src/observability/). */
  traceContext: string | null;
  eId: string[];
  ePrice: number[];
  eTaxRate: number[];
  eName: string[];
  eSku: (string | null)[];
  eTrackStock: boolean[];
  eThreshold: (number | null)[];
  eStock: number[];
}

/**
 * The whole write of any number of drafted sales in one named statement. It locks the
 * products in id order and checks that what the drafts used (price, tax, name, sku,
 * tracking, threshold) is unchanged: if not, it writes nothing and answers `ok = false`.
 * Stock is applied relative to the level the draft saw (`drift`), so sales that raced on a
 * product's stock still leave level = ledger; low-stock events are derived here from the
 * real levels. The counter takes `count` numbers and the sales claim their
 * clientRequestIds (a taken one raises the unique violation, aborting the statement);
 * lines, payments, movements and outbox rows join on the inserted sales.
 *
 * Run alone (autocommit), the counter's row lock — which serialises a business's sales so
 * numbers stay gap-free — is held only inside PostgreSQL until the commit, never across a
 * round trip to this process: that is what lets one shop's tills sell in parallel. A batch
 * runs the same way.
 */
type WriteRow = { ok: boolean; id: string | null; number: number | null };

const writeSalesSql = (p: (key: keyof WriteParams & string) => SqlValue) => sql`
    with catalog as (
      -- The catalog write order first (advisory lock, then the updatedAt stamp), before any
      -- product row lock, as every product writer does (catalog.repo.ts lockCatalogAndStamp).
      select catalog_write_stamp(${p('businessId')}::uuid) as stamp
    ),
    expected as (
      select * from unnest(
        ${p('eId')}::uuid[], ${p('ePrice')}::int[], ${p('eTaxRate')}::int[], ${p('eName')}::text[],
        ${p('eSku')}::text[], ${p('eTrackStock')}::boolean[], ${p('eThreshold')}::numeric[],
        ${p('eStock')}::numeric[]
      ) as e(id, price, tax_rate, name, sku, track_stock, low_stock_threshold, stock_quantity)
    ),
    locked as (
      select id, price, tax_rate, name, sku, track_stock, low_stock_threshold, stock_quantity
      from products
      where id = any(${p('eId')}::uuid[]) and business_id = ${p('businessId')}
        and (select stamp from catalog) is not null
      order by id
      for update
    ),
    guard as (
      select count(*) = cardinality(${p('eId')}::uuid[]) as ok
      from locked l join expected e on e.id = l.id
      where l.price = e.price and l.tax_rate = e.tax_rate and l.name = e.name
        and l.track_stock = e.track_stock and l.sku is not distinct from e.sku
        and l.low_stock_threshold is not distinct from e.low_stock_threshold
    ),
    drift as (
      select l.id, l.stock_quantity - e.stock_quantity as amount, l.name, l.sku,
        l.low_stock_threshold as threshold
      from locked l join expected e on e.id = l.id
    ),
    counter as (
      insert into sale_counters (business_id, last_number)
      select ${p('businessId')}::uuid, ${p('count')}::bigint where (select ok from guard)
      on conflict (business_id) do update set last_number = sale_counters.last_number + excluded.last_number
      returning last_number
    ),
    inserted_sales as (
      insert into sales (id, business_id, client_request_id, request_hash, number, receipt_number,
        cashier_id, occurred_at, received_at, status, subtotal, discount, tax, total, change,
        customer_phone, note)
      select s.id, ${p('businessId')}::uuid, s.client_request_id, s.request_hash,
        counter.last_number - ${p('count')}::bigint + s.ordinal, s.receipt_number, s.cashier_id,
        s.occurred_at, s.received_at, 'completed', s.subtotal, s.discount, s.tax, s.total,
        s.change, s.customer_phone, s.note
      from counter, unnest(
        ${p('sId')}::uuid[], ${p('sClientRequestId')}::uuid[], ${p('sRequestHash')}::text[],
        ${p('sReceiptNumber')}::text[], ${p('sCashierId')}::uuid[],
        ${p('sOccurredAt')}::timestamptz[], ${p('sReceivedAt')}::timestamptz[],
        ${p('sSubtotal')}::bigint[], ${p('sDiscount')}::bigint[], ${p('sTax')}::bigint[],
        ${p('sTotal')}::bigint[], ${p('sChange')}::bigint[], ${p('sCustomerPhone')}::text[],
        ${p('sNote')}::text[]
      ) with ordinality as s(id, client_request_id, request_hash, receipt_number, cashier_id,
        occurred_at, received_at, subtotal, discount, tax, total, change, customer_phone, note,
        ordinal)
      returning id, number
    ),
    inserted_lines as (
      insert into sale_lines (id, sale_id, business_id, product_id, position, name, sku, quantity,
        unit_price, catalog_price, tax_rate, discount, sale_discount_share, tax, total)
      select l.id, l.sale_id, ${p('businessId')}::uuid, l.product_id, l.position, l.name, l.sku,
        l.quantity, l.unit_price, l.catalog_price, l.tax_rate, l.discount, l.share, l.tax, l.total
      from unnest(
        ${p('lId')}::uuid[], ${p('lSaleId')}::uuid[], ${p('lProductId')}::uuid[],
        ${p('lPosition')}::int[], ${p('lName')}::text[], ${p('lSku')}::text[],
        ${p('lQuantity')}::numeric[], ${p('lUnitPrice')}::bigint[], ${p('lCatalogPrice')}::bigint[],
        ${p('lTaxRate')}::int[], ${p('lDiscount')}::bigint[], ${p('lShare')}::bigint[],
        ${p('lTax')}::bigint[], ${p('lTotal')}::bigint[]
      ) as l(id, sale_id, product_id, position, name, sku, quantity, unit_price, catalog_price,
        tax_rate, discount, share, tax, total)
      join inserted_sales on inserted_sales.id = l.sale_id
      returning 1
    ),
    inserted_payments as (
      insert into sale_payments (id, sale_id, business_id, position, method, amount, reference)
      select py.id, py.sale_id, ${p('businessId')}::uuid, py.position, py.method, py.amount, py.reference
      from unnest(
        ${p('pId')}::uuid[], ${p('pSaleId')}::uuid[], ${p('pPosition')}::int[],
        ${p('pMethod')}::text[], ${p('pAmount')}::bigint[], ${p('pReference')}::text[]
      ) as py(id, sale_id, position, method, amount, reference)
      join inserted_sales on inserted_sales.id = py.sale_id
      returning 1
    ),
    stock_levels as (
      -- Each changed product gets its own millisecond after the stamp, in id order (stampOf).
      update products set stock_quantity = lv.quantity_after + drift.amount,
        updated_at = (select stamp from catalog) + (lv.ordinal - 1) * interval '1 millisecond'
      from unnest(${p('levelProductId')}::uuid[], ${p('levelQuantity')}::numeric[])
          with ordinality as lv(product_id, quantity_after, ordinal)
        join drift on drift.id = lv.product_id
      where products.id = lv.product_id and products.business_id = ${p('businessId')}
        and exists (select 1 from inserted_sales)
      returning 1
    ),
    adjusted as (
      select m.id, m.message_id, m.sale_id, m.product_id, m.delta,
        m.quantity_after + drift.amount as quantity_after, drift.name, drift.sku, drift.threshold
      from unnest(
        ${p('mId')}::uuid[], ${p('mMessageId')}::uuid[], ${p('mSaleId')}::uuid[],
        ${p('mProductId')}::uuid[], ${p('mDelta')}::numeric[], ${p('mQuantityAfter')}::numeric[]
      ) as m(id, message_id, sale_id, product_id, delta, quantity_after)
      join drift on drift.id = m.product_id
      join inserted_sales on inserted_sales.id = m.sale_id
    ),
    movements as (
      insert into stock_movements (id, business_id, product_id, type, delta, quantity_after,
        sale_id, created_by)
      select a.id, ${p('businessId')}::uuid, a.product_id, 'sale', a.delta, a.quantity_after, a.sale_id,
        ${p('createdBy')}::uuid
      from adjusted a
      returning 1
    ),
    outbox_rows as (
      insert into outbox (message_id, business_id, kind, type, payload, trace_context)
      select o.message_id, ${p('businessId')}::uuid, 'event', 'sale.created',
        jsonb_set(o.payload, '{number}', to_jsonb(inserted_sales.number)),
        ${p('traceContext')}::jsonb
      from unnest(${p('oMessageId')}::uuid[], ${p('oSaleId')}::uuid[], ${p('oPayload')}::jsonb[])
        as o(message_id, sale_id, payload)
        join inserted_sales on inserted_sales.id = o.sale_id
      union all
      -- The stock went from above the threshold to at or below it with this movement.
      select a.message_id, ${p('businessId')}::uuid, 'event', 'inventory.low_stock',
        jsonb_build_object('productId', a.product_id, 'name', a.name, 'sku', a.sku,
          'stockQuantity', a.quantity_after, 'lowStockThreshold', a.threshold),
        ${p('traceContext')}::jsonb
      from adjusted a
      where a.threshold is not null and a.quantity_after - a.delta > a.threshold
        and a.quantity_after <= a.threshold
      returning 1
    )
    select guard.ok, inserted_sales.id, inserted_sales.number
    from guard left join inserted_sales on true`;

// One sale and a batch are the same text, but not the same plan: PostgreSQL settles on a
// generic plan for the stream of one-sale writes (arrays of a few rows), and that plan,
// reused for a 100-sale batch, turned it from ~100 ms into ~300–500 ms of database time
// (bench/README.md). A batch is sent unnamed, so it is planned for its own arrays.
const writeOneSale = namedStatement<WriteRow, WriteParams>('sales_write', writeSalesSql);
const writeSaleBatch = unnamedStatement<WriteRow, WriteParams>(writeSalesSql);

const runWrite = (db: DbOrTx, params: WriteParams): Promise<WriteRow[]> =>
  params.count === 1 ? writeOneSale(db, params) : writeSaleBatch(db, params);

export interface SalesToWrite {
  businessId: string;
  createdBy: string;
  headers: SaleHeaderRow[];
  lines: SaleLineRow[];
  payments: SalePaymentRow[];
  /** In order: a product's last movement carries its new level (as the draft saw it). */
  movements: MovementRow[];
  /** The sale.created payloads (the Sale resource; its number is patched in). */
  outbox: SaleOutboxRow[];
  /** Every product the drafts read, as they read it. */
  products: LockedProduct[];
}

/**
 * Writes the sales with everything they cause, in one round trip. Returns their numbers
 * (in the order of `headers`), or null when a product changed since it was read (nothing
 * written: draft again under lock). Throws the unique violation when a clientRequestId was
 * taken meanwhile; a concurrent first insert of the same id makes this wait for its commit.
 */
export async function writeSalesWithChildren(
  db: DbOrTx,
  rows: SalesToWrite,
): Promise<number[] | null> {
  const { headers, lines, payments, movements, outbox, products } = rows;
  // One level per product (an UPDATE … FROM applies only one row per target): the last,
  // in product id order (the order of their updatedAt stamps).
  const last = new Map(movements.map((row) => [row.productId, row.quantityAfter]));
  const levels = new Map([...last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const result = await runWrite(db, {
    businessId: rows.businessId,
    count: headers.length,
    createdBy: rows.createdBy,
    sId: headers.map((h) => h.id),
    sClientRequestId: headers.map((h) => h.clientRequestId),
    sRequestHash: headers.map((h) => h.requestHash),
    sReceiptNumber: headers.map((h) => h.receiptNumber),
    sCashierId: headers.map((h) => h.cashierId),
    sOccurredAt: headers.map((h) => h.occurredAt.toISOString()),
    sReceivedAt: headers.map((h) => h.receivedAt.toISOString()),
    sSubtotal: headers.map((h) => h.subtotal),
    sDiscount: headers.map((h) => h.discount),
    sTax: headers.map((h) => h.tax),
    sTotal: headers.map((h) => h.total),
    sChange: headers.map((h) => h.change),
    sCustomerPhone: headers.map((h) => h.customerPhone),
    sNote: headers.map((h) => h.note),
    lId: lines.map((l) => l.id),
    lSaleId: lines.map((l) => l.saleId),
    lProductId: lines.map((l) => l.productId),
    lPosition: lines.map((l) => l.position),
    lName: lines.map((l) => l.name),
    lSku: lines.map((l) => l.sku),
    lQuantity: lines.map((l) => l.quantity),
    lUnitPrice: lines.map((l) => l.unitPrice),
    lCatalogPrice: lines.map((l) => l.catalogPrice),
    lTaxRate: lines.map((l) => l.taxRate),
    lDiscount: lines.map((l) => l.discount),
    lShare: lines.map((l) => l.saleDiscountShare),
    lTax: lines.map((l) => l.tax),
    lTotal: lines.map((l) => l.total),
    pId: payments.map((py) => py.id),
    pSaleId: payments.map((py) => py.saleId),
    pPosition: payments.map((py) => py.position),
    pMethod: payments.map((py) => py.method),
    pAmount: payments.map((py) => py.amount),
    pReference: payments.map((py) => py.reference),
    levelProductId: [...levels.keys()],
    levelQuantity: [...levels.values()],
    mId: movements.map((m) => m.movementId),
    // Used only if this movement takes the product to its low-stock threshold.
    mMessageId: movements.map(() => newId()),
    mSaleId: movements.map((m) => m.saleId),
    mProductId: movements.map((m) => m.productId),
    mDelta: movements.map((m) => m.delta),
    mQuantityAfter: movements.map((m) => m.quantityAfter),
    oMessageId: outbox.map((o) => o.messageId),
    oSaleId: outbox.map((o) => o.saleId),
    oPayload: outbox.map((o) => JSON.stringify(o.payload)),
    traceContext: outboxTraceContext(),
    eId: products.map((product) => product.id),
    ePrice: products.map((product) => product.price),
    eTaxRate: products.map((product) => product.taxRate),
    eName: products.map((product) => product.name),
    eSku: products.map((product) => product.sku),
    eTrackStock: products.map((product) => product.trackStock),
    eThreshold: products.map((product) => product.lowStockThreshold),
    eStock: products.map((product) => product.stockQuantity),
  });
  if (!result[0]?.ok) return null;
  const numbers = new Map(result.map((row) => [row.id, row.number]));
  return headers.map((header) => numbers.get(header.id) ?? 0);
}
