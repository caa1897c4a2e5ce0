import { sql } from 'drizzle-orm';
import { namedStatement, unnamedStatement, type SqlValue } from '../../db/named-statement.js';

/** The rows of each table as JSON arrays (sale-write.repo.ts writeSales); keys as in the schema. */
export interface WriteParams extends Record<string, unknown> {
  businessId: string;
  count: number;
  sales: string;
  lines: string;
  payments: string;
  movements: string;
  levels: string;
  outbox: string;
  products: string;
  /** Customers area: the credit sales' ledger entries (sale-write.repo.ts writeSales). */
  credits: string;
  /** The request's W3C trace context, saved with its outbox rows (src/observability/). */
  traceContext: string | null;
  /** KRA eTIMS: the outbox type of the transmit job (modules/etims/etims.job.ts). */
  etimsJobType: string;
}

type WriteRow = { ok: boolean; id: string | null; number: number | null; etims: boolean };

/**
 * The whole write of any number of drafted sales in one statement. It locks the products in
 * id order and checks that what the drafts used (price, tax, name, sku, tracking,
 * threshold) is unchanged: if not, it writes nothing and answers `ok = false`. Stock is
 * applied relative to the level the draft saw (`drift`), so sales that raced on a product's
 * stock still leave level = ledger; low-stock events are derived here from the real levels.
 * The counter takes `count` numbers and the sales claim their clientRequestIds (a taken one
 * raises the unique violation, aborting the statement); lines, payments, movements and
 * outbox rows join on the inserted sales.
 *
 * Run alone (autocommit), the counter's row lock — which serialises a business's sales so
 * numbers stay gap-free — is held only inside PostgreSQL until the commit, never across a
 * round trip to this process: that is what lets one shop's tills sell in parallel. A batch
 * runs the same way.
 */
const writeSalesSql = (p: (key: keyof WriteParams & string) => SqlValue) => sql`
    with catalog as (
      -- The catalog write order first (advisory lock, then the updatedAt stamp), before any
      -- product row lock, as every product writer does (catalog.repo.ts lockCatalogAndStamp).
      select catalog_write_stamp(${p('businessId')}::uuid) as stamp
    ),
    expected as (
      select * from jsonb_to_recordset(${p('products')}::jsonb) as e(id uuid, price int,
        "taxRate" int, name text, sku text, "trackStock" boolean, "lowStockThreshold" numeric,
        "stockQuantity" numeric)
    ),
    locked as (
      -- Each product with its product_stock row (the total), both locked: the lock reads the
      -- latest committed rows, though this statement's snapshot predates the catalog lock.
      select p.id, p.price, p.tax_rate, p.name, p.sku, p.track_stock, p.low_stock_threshold,
        ps.quantity as stock_quantity
      from products p
        join product_stock ps on ps.business_id = p.business_id and ps.product_id = p.id
      where p.id = any(array(select id from expected)) and p.business_id = ${p('businessId')}
        and (select stamp from catalog) is not null
      order by p.id
      for update
    ),
    guard as (
      select count(*) = (select count(*) from expected) as ok
      from locked l join expected e on e.id = l.id
      where l.price = e.price and l.tax_rate = e."taxRate" and l.name = e.name
        and l.track_stock = e."trackStock" and l.sku is not distinct from e.sku
        and l.low_stock_threshold is not distinct from e."lowStockThreshold"
    ),
    drift as (
      select l.id, l.stock_quantity - e."stockQuantity" as amount, l.name, l.sku,
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
        cashier_id, location_id, shift_id, occurred_at, received_at, status, subtotal, discount, tax, total,
        change, customer_phone, customer_id, note)
      select s.id, ${p('businessId')}::uuid, s."clientRequestId", s."requestHash",
        counter.last_number - ${p('count')}::bigint + s.ordinal, s."receiptNumber", s."cashierId",
        s."locationId", s."shiftId", s."occurredAt", s."receivedAt", 'completed', s.subtotal, s.discount, s.tax,
        s.total, s.change, s."customerPhone", s."customerId", s.note
      from counter, jsonb_to_recordset(${p('sales')}::jsonb) as s(ordinal bigint, id uuid,
        "clientRequestId" uuid, "requestHash" text, "receiptNumber" text, "cashierId" uuid,
        "locationId" uuid, "shiftId" uuid, "occurredAt" timestamptz, "receivedAt" timestamptz, subtotal bigint, discount bigint,
        tax bigint, total bigint, change bigint, "customerPhone" text, "customerId" uuid, note text)
      returning id, number
    ),
    inserted_lines as (
      insert into sale_lines (id, sale_id, business_id, product_id, position, name, sku, quantity,
        unit_price, catalog_price, tax_rate, discount, sale_discount_share, tax, total)
      select l.id, l."saleId", ${p('businessId')}::uuid, l."productId", l.position, l.name, l.sku,
        l.quantity, l."unitPrice", l."catalogPrice", l."taxRate", l.discount,
        l."saleDiscountShare", l.tax, l.total
      from jsonb_to_recordset(${p('lines')}::jsonb) as l(id uuid, "saleId" uuid,
        "productId" uuid, position int, name text, sku text, quantity numeric,
        "unitPrice" bigint, "catalogPrice" bigint, "taxRate" int, discount bigint,
        "saleDiscountShare" bigint, tax bigint, total bigint)
      join inserted_sales on inserted_sales.id = l."saleId"
      returning 1
    ),
    inserted_payments as (
      insert into sale_payments (id, sale_id, business_id, position, method, amount, reference)
      select py.id, py."saleId", ${p('businessId')}::uuid, py.position, py.method, py.amount,
        py.reference
      from jsonb_to_recordset(${p('payments')}::jsonb) as py(id uuid, "saleId" uuid,
        position int, method text, amount bigint, reference text)
      join inserted_sales on inserted_sales.id = py."saleId"
      returning 1
    ),
    product_totals as (
      -- The narrow product_stock row, not the product (catalog.ts productStock: no rewrite of
      -- the wide row and its indexes). Each changed product gets its own millisecond after
      -- the stamp, in id order (stampOf): changed_at is its presented updatedAt.
      update product_stock set quantity = lv."quantityAfter" + drift.amount,
        changed_at = (select stamp from catalog) + (lv.ordinal - 1) * interval '1 millisecond'
      from jsonb_to_recordset(${p('levels')}::jsonb)
          as lv(ordinal bigint, "productId" uuid, "quantityAfter" numeric)
        join drift on drift.id = lv."productId"
      where product_stock.business_id = ${p('businessId')}
        and product_stock.product_id = lv."productId"
        and exists (select 1 from inserted_sales)
      returning 1
    ),
    adjusted as (
      select m.id, m."messageId", m."saleId", m."productId", m."locationId", m.ordinal, m.delta,
        m."createdBy", m."quantityAfter" + drift.amount as total_after, drift.name, drift.sku,
        drift.threshold
      from jsonb_to_recordset(${p('movements')}::jsonb) as m(id uuid, "messageId" uuid,
        "saleId" uuid, "productId" uuid, "locationId" uuid, ordinal bigint, delta numeric,
        "quantityAfter" numeric, "createdBy" uuid)
      join drift on drift.id = m."productId"
      join inserted_sales on inserted_sales.id = m."saleId"
    ),
    location_levels as (
      -- The level at each (product, location) the sales took from: added to the committed
      -- row (the product row locks above serialise every writer of these products; ON
      -- CONFLICT sees the latest row even when this statement's snapshot is older).
      insert into stock_levels as sl (business_id, product_id, location_id, quantity, updated_at)
      select ${p('businessId')}::uuid, a."productId", a."locationId", sum(a.delta),
        (select stamp from catalog)
      from adjusted a
      group by a."productId", a."locationId"
      on conflict (business_id, product_id, location_id) do update
        set quantity = sl.quantity + excluded.quantity, updated_at = excluded.updated_at
      returning product_id, location_id, quantity
    ),
    placed as (
      -- Each movement's level at its location: the new level less what later movements of
      -- the same product and location (in this batch) took.
      select a.*, ll.quantity - coalesce(sum(a.delta) over (
          partition by a."productId", a."locationId" order by a.ordinal
          rows between 1 following and unbounded following), 0) as level_after
      from adjusted a
      join location_levels ll on ll.product_id = a."productId" and ll.location_id = a."locationId"
    ),
    movements as (
      insert into stock_movements (id, business_id, product_id, location_id, type, delta,
        quantity_after, sale_id, created_by)
      select a.id, ${p('businessId')}::uuid, a."productId", a."locationId", 'sale', a.delta,
        a.level_after, a."saleId", a."createdBy"
      from placed a
      returning 1
    ),
    -- KRA eTIMS (modules/etims): a business with eTIMS on gets one pending invoice per sale
    -- that occurred since it was switched on; the transmit job is queued below.
    etims_invoices as (
      insert into etims_documents (id, business_id, sale_id, kind)
      select e."etimsDocumentId", ${p('businessId')}::uuid, e."saleId", 'sale'
      from jsonb_to_recordset(${p('outbox')}::jsonb)
          as e("saleId" uuid, "etimsDocumentId" uuid, "occurredAt" timestamptz)
        join inserted_sales on inserted_sales.id = e."saleId"
        join etims_settings es on es.business_id = ${p('businessId')}::uuid
      where es.enabled and e."occurredAt" >= es.enabled_at
      returning id, sale_id
    ),
    outbox_rows as (
      insert into outbox (message_id, business_id, kind, type, payload, trace_context)
      select o."messageId", ${p('businessId')}::uuid, 'event', 'sale.created',
        jsonb_set(o.payload, '{number}', to_jsonb(inserted_sales.number)),
        ${p('traceContext')}::jsonb
      from jsonb_to_recordset(${p('outbox')}::jsonb)
          as o("messageId" uuid, "saleId" uuid, payload jsonb)
        join inserted_sales on inserted_sales.id = o."saleId"
      union all
      -- The location's stock went from above the threshold to at or below it with this
      -- movement (low stock is judged per location).
      select a."messageId", ${p('businessId')}::uuid, 'event', 'inventory.low_stock',
        jsonb_build_object('productId', a."productId", 'locationId', a."locationId",
          'name', a.name, 'sku', a.sku, 'quantity', a.level_after,
          'stockQuantity', a.total_after, 'lowStockThreshold', a.threshold),
        ${p('traceContext')}::jsonb
      from placed a
      where a.threshold is not null and a.level_after - a.delta > a.threshold
        and a.level_after <= a.threshold
      union all
      select e."etimsMessageId", ${p('businessId')}::uuid, 'job', ${p('etimsJobType')}::text,
        jsonb_build_object('documentId', etims_invoices.id), ${p('traceContext')}::jsonb
      from etims_invoices
        join jsonb_to_recordset(${p('outbox')}::jsonb)
          as e("etimsDocumentId" uuid, "etimsMessageId" uuid)
          on e."etimsDocumentId" = etims_invoices.id
      returning 1
    ),
    -- ---- Customers area (the debt book): what credit payments put on customers' accounts.
    -- The customers are locked in id order (after the products, as every writer does), then
    -- each balance moves by the sum of its sales' credit; "update … set balance = balance + Δ"
    -- works on the latest committed row, so credit sales and payments racing on one customer
    -- leave balance = Σ entries. Each entry's balanceAfter / position is the new balance /
    -- count less what the later entries of this batch added. Over the limit: an event.
    credits as (
      select c.* from jsonb_to_recordset(${p('credits')}::jsonb) as c(ordinal bigint,
        "entryId" uuid, "messageId" uuid, "saleId" uuid, "customerId" uuid, amount bigint,
        "createdBy" uuid)
      join inserted_sales on inserted_sales.id = c."saleId"
    ),
    customer_locks as (
      select id from customers
      where id = any(array(select "customerId" from credits)) and business_id = ${p('businessId')}
      order by id
      for update
    ),
    customer_totals as (
      update customers set balance = customers.balance + t.amount,
        entry_count = customers.entry_count + t.entries, updated_at = now()
      from (select "customerId", sum(amount) as amount, count(*) as entries
          from credits group by "customerId") t
      where customers.id = t."customerId" and customers.business_id = ${p('businessId')}
        and (select count(*) from customer_locks) > 0
      returning customers.id, customers.balance, customers.entry_count, customers.credit_limit
    ),
    credit_entries as (
      select c.*, ct.credit_limit,
        ct.balance - coalesce(sum(c.amount) over later, 0) as balance_after,
        ct.entry_count - count(*) over later as position
      from credits c join customer_totals ct on ct.id = c."customerId"
      window later as (partition by c."customerId" order by c.ordinal
        rows between 1 following and unbounded following)
    ),
    customer_entries as (
      insert into customer_ledger_entries (id, business_id, customer_id, position, type, amount,
        balance_after, sale_id, created_by)
      select e."entryId", ${p('businessId')}::uuid, e."customerId", e.position, 'sale', e.amount,
        e.balance_after, e."saleId", e."createdBy"
      from credit_entries e
      returning 1
    ),
    customer_outbox as (
      insert into outbox (message_id, business_id, kind, type, payload, trace_context)
      select e."messageId", ${p('businessId')}::uuid, 'event', 'customer.credit_limit_exceeded',
        jsonb_build_object('customerId', e."customerId", 'saleId', e."saleId",
          'amount', e.amount, 'balance', e.balance_after, 'creditLimit', e.credit_limit),
        ${p('traceContext')}::jsonb
      from credit_entries e
      where e.credit_limit is not null and e.balance_after > e.credit_limit
      returning 1
    )
    select guard.ok, inserted_sales.id, inserted_sales.number,
      -- The sale has an eTIMS invoice, pending: its answer's etims block, known without a read.
      exists (select 1 from etims_invoices where etims_invoices.sale_id = inserted_sales.id) as etims
    from guard left join inserted_sales on true`;

// One sale and a batch are the same text, but not the same plan: PostgreSQL settles on a
// generic plan for the stream of one-sale writes (a few rows each), and that plan, reused
// for a 100-sale batch, turned it from ~100 ms into ~300–500 ms of database time
// (bench/README.md). A batch is sent unnamed, so it is planned for its own rows.
export const writeOneSale = namedStatement<WriteRow, WriteParams>('sales_write', writeSalesSql);
export const writeSaleBatch = unnamedStatement<WriteRow, WriteParams>(writeSalesSql);
