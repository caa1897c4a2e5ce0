import { sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import { namedStatement, type SqlValue } from '../../db/named-statement.js';
import type {
  ProductRow,
  SaleLineRow,
  SalePaymentRow,
  SaleRow,
  StockMovementRow,
} from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import { outboxTraceContext } from '../../observability/trace.js';
import { writeOneSale, writeSaleBatch } from './sale-write.statement.js';
import { ETIMS_TRANSMIT_JOB_TYPE } from '../etims/etims-job-type.js';
import { storedSalesQuery, type StoredSale } from './sales.repo.js';
import type { Sale } from './sales.schemas.js';

/**
 * The sale write path, set-based for one sale or a batch: one statement reads what a sale
 * is checked against (lookUpSales), one writes the drafted sales with everything they cause
 * (writeSales). Rows are the schema's (db/schema/sales.ts), sent as one JSON array per
 * table. No statement per line or per sale, all named: round trips and parsing dominate
 * the cost (shared/research/performance.md).
 */

/** A product as a sale reads it: enough to price, name and take stock. */
export type LockedProduct = Pick<
  ProductRow,
  'id' | 'name' | 'sku' | 'price' | 'taxRate' | 'trackStock' | 'lowStockThreshold'
> & { stockQuantity: number };

/** One ledger row a sale (or its void) writes; `quantityAfter` is the level right after it. */
export type SaleMovement = Pick<
  StockMovementRow,
  'id' | 'saleId' | 'productId' | 'locationId' | 'delta' | 'quantityAfter'
>;

/** A location as a sale checks it (archived ones included: a sale is a fact). */
export interface SaleLocation {
  id: string;
  isDefault: boolean;
}

/** A sale checked against its products and ready to insert (sale-draft.ts). */
export interface DraftedSale {
  /** Its number is 0 until the write statement takes one from the counter. */
  sale: SaleRow;
  lines: SaleLineRow[];
  /** created_at is the database's. */
  payments: Omit<SalePaymentRow, 'createdAt'>[];
  /** In order: a product's last movement carries its new level (as the draft saw it). */
  movements: SaleMovement[];
  /** What the sale puts on its customer's account (`credit` payments), if anything. */
  credit: { customerId: string; amount: number } | null;
  /** The Sale resource once the number is known. */
  present: (number: number) => Sale;
}

/** The products with their total (product_stock.quantity), as sales read and lock them. */
const productColumns = (businessId: SqlValue, ids: SqlValue) => sql`
  select p.id, p.name, p.sku, p.price, p.tax_rate as "taxRate", p.track_stock as "trackStock",
    ps.quantity as "stockQuantity", p.low_stock_threshold as "lowStockThreshold"
  from products p
    join product_stock ps on ps.business_id = p.business_id and ps.product_id = p.id
  where p.id = any(${ids}::uuid[]) and p.business_id = ${businessId}`;

const lookupStatement = namedStatement<
  SaleLookup,
  { businessId: string; clientRequestIds: string[]; productIds: string[]; customerIds: string[] }
>(
  'sales_lookup',
  (p) => sql`
    select
      (select coalesce(json_agg(stored), '[]'::json)
        from (${storedSalesQuery(p('businessId'), p('clientRequestIds'))}) stored) as stored,
      -- Products only when some sale is new: a replay needs none.
      (select coalesce(json_agg(product order by product.id), '[]'::json)
        from (${productColumns(p('businessId'), p('productIds'))}) product
        where (select count(*) from sales
          where business_id = ${p('businessId')}
            and client_request_id = any(${p('clientRequestIds')}::uuid[]))
          < cardinality(${p('clientRequestIds')}::uuid[])) as products,
      -- The business's locations (a handful): where each new sale is, checked in memory.
      (select coalesce(json_agg(json_build_object('id', id, 'isDefault', is_default)), '[]'::json)
        from locations where business_id = ${p('businessId')}) as locations,
      -- The customers the sales name (customers area), checked in memory like locations.
      (select coalesce(json_agg(id), '[]'::json) from customers
        where business_id = ${p('businessId')} and id = any(${p('customerIds')}::uuid[])) as customers`,
);

export interface SaleLookup {
  /** The sales already recorded under these clientRequestIds (replays). */
  stored: StoredSale[];
  /** The business's products among the ids, read without a lock; none if all are replays. */
  products: LockedProduct[];
  locations: SaleLocation[];
  /** The business's customers among those the sales name. */
  customers: string[];
}

/**
 * Everything a sale (or a batch) is checked against before it is drafted, in one round
 * trip: the sales already stored under its clientRequestIds, and its products read without
 * a lock (the write statement locks them and checks they did not change).
 */
export async function lookUpSales(
  db: DbOrTx,
  businessId: string,
  clientRequestIds: string[],
  productIds: string[],
  customerIds: string[] = [],
): Promise<SaleLookup> {
  const [row] = await lookupStatement(db, {
    businessId,
    clientRequestIds,
    productIds,
    customerIds,
  });
  return row ?? { stored: [], products: [], locations: [], customers: [] };
}

const lockProductsStatement = namedStatement<LockedProduct, { ids: string[]; businessId: string }>(
  'sales_lock_products',
  (p) => sql`${productColumns(p('businessId'), p('ids'))} order by p.id for update`,
);

/** Locks the business's products among `ids` in id order (one order for all writers: no deadlocks). */
export function lockProducts(tx: Tx, businessId: string, ids: string[]): Promise<LockedProduct[]> {
  return lockProductsStatement(tx, { ids, businessId });
}

export interface SalesToWrite {
  businessId: string;
  drafts: DraftedSale[];
  /** The sale.created payloads, one per draft (the Sale resource; its number is patched in). */
  payloads: Sale[];
  /** Every product the drafts read, as they read it. */
  products: LockedProduct[];
}

/** What the write gave one drafted sale: its number, and whether it got a (pending) eTIMS invoice. */
export interface WrittenSale {
  number: number;
  etims: boolean;
}

/**
 * Writes the drafted sales with everything they cause, in one round trip
 * (sale-write.statement.ts). Returns what each got in the order of `drafts`, or null when a
 * product changed since it was read (nothing written: draft again under lock). Throws the
 * unique violation when a clientRequestId was taken meanwhile; a concurrent first insert
 * of the same id makes this wait for its commit.
 */
export async function writeSales(db: DbOrTx, write: SalesToWrite): Promise<WrittenSale[] | null> {
  const { drafts } = write;
  // Each movement and credit entry is made by its sale's cashier (a batch may hold several).
  const movements = drafts.flatMap((draft) =>
    draft.movements.map((row) => ({ ...row, createdBy: draft.sale.cashierId })),
  );
  // One level per product (an UPDATE … FROM applies only one row per target): the last,
  // in product id order (the order of their product_stock.changed_at stamps).
  const last = new Map(movements.map((row) => [row.productId, row.quantityAfter]));
  const levels = [...last]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantityAfter], index) => ({ ordinal: index + 1, productId, quantityAfter }));
  const params = {
    businessId: write.businessId,
    count: drafts.length,
    // `ordinal`: the sale's place among the numbers the counter hands out.
    sales: JSON.stringify(drafts.map((draft, index) => ({ ...draft.sale, ordinal: index + 1 }))),
    lines: JSON.stringify(drafts.flatMap((draft) => draft.lines)),
    payments: JSON.stringify(drafts.flatMap((draft) => draft.payments)),
    // A message id for each movement, used only if it takes its location to the threshold;
    // `ordinal` orders a batch's movements of one product and location.
    movements: JSON.stringify(
      movements.map((row, index) => ({ ...row, messageId: newId(), ordinal: index + 1 })),
    ),
    levels: JSON.stringify(levels),
    // etims*: used only when the business has eTIMS on (the statement's etims_invoices).
    outbox: JSON.stringify(
      write.payloads.map((payload) => ({
        messageId: newId(),
        saleId: payload.id,
        payload,
        etimsDocumentId: newId(),
        etimsMessageId: newId(),
        occurredAt: payload.occurredAt,
      })),
    ),
    etimsJobType: ETIMS_TRANSMIT_JOB_TYPE,
    products: JSON.stringify(write.products),
    // Customers area: one ledger entry per credit sale (`ordinal` orders a customer's entries).
    credits: JSON.stringify(
      drafts
        .flatMap((draft) =>
          draft.credit
            ? [
                {
                  ...draft.credit,
                  saleId: draft.sale.id,
                  createdBy: draft.sale.cashierId,
                  entryId: newId(),
                  messageId: newId(),
                },
              ]
            : [],
        )
        .map((credit, index) => ({ ...credit, ordinal: index + 1 })),
    ),
    traceContext: outboxTraceContext(),
  };
  // One sale and a batch are the same text, planned apart (sale-write.statement.ts).
  const result = await (drafts.length === 1 ? writeOneSale : writeSaleBatch)(db, params);
  if (!result[0]?.ok) return null;
  const written = new Map(result.map((row) => [row.id, row]));
  return drafts.map((draft) => {
    const row = written.get(draft.sale.id);
    return { number: row?.number ?? 0, etims: row?.etims ?? false };
  });
}
