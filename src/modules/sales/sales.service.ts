import type { DbOrTx } from '../../db/client.js';
import { SALES_CLIENT_REQUEST_UNIQUE } from '../../db/schema/index.js';
import { violatedUniqueConstraint } from '../../db/pg-errors.js';
import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import { replayOf, requestFingerprint } from '../../lib/client-request.js';
import { AppError } from '../../lib/errors.js';
import { beginCatalogWrite } from '../catalog/catalog.service.js';
import { withCatalogBump } from '../catalog/catalog-version.js';
import { claimReceiptsOfNewSales } from '../till/till.service.js';
import { draftSale } from './sale-draft.js';
import {
  lockProducts,
  lookUpSales,
  writeSales,
  type DraftedSale,
  type LockedProduct,
  type SaleLocation,
  type WrittenSale,
} from './sale-write.repo.js';
import { findStoredSales, type StoredSale } from './sales.repo.js';
import { CreateSaleBody, ECHOED_CLIENT_REQUEST_ID_MAX, type Sale } from './sales.schemas.js';
import { etimsBlocksOfSales, pendingInvoiceBlock } from '../etims/etims-block.js';
import { coalesced } from './sale-coalescer.js';

/** What became of one sale: recorded now, recorded before (a replay), or refused. */
export type SaleOutcome =
  | { clientRequestId: string; status: 'created' | 'duplicate'; sale: Sale }
  | { clientRequestId: string; status: 'rejected'; error: unknown };

interface SaleRequest {
  /** Who sends it: coalesced POST /sales batches mix the tills (cashiers) of one business. */
  caller: Caller;
  body: CreateSaleBody;
  requestHash: string;
}

/**
 * Records sales exactly once per (business, clientRequestId): POST /sales sends one,
 * /sales/sync up to 100; outcomes come back in input order. The story of a sale:
 *
 * 1. **Look up** (one read, no lock): the sales already stored under these
 *    clientRequestIds, and the products of the others.
 * 2. **Replay**: a stored sale with the same body is the answer (`duplicate`); another body
 *    is `IDEMPOTENCY_KEY_REUSED`. Nothing is written.
 * 3. **Draft** each new sale in memory (sales.rules.ts); one that breaks a rule is
 *    rejected alone.
 * 4. **Write** the drafts in one statement that locks their products and checks they are
 *    as read; if one changed meanwhile, draft again under lock.
 * 5. **Race**: the unique index decides, so this holds across processes. If another request
 *    took a clientRequestId meanwhile, the batch's write rolled back (numbers included);
 *    each sale is then recorded on its own, and where another request won, its sale is the
 *    answer. A clientRequestId repeated within a batch is settled that way too, after.
 */
export async function recordSales(
  deps: AppDeps,
  caller: Caller,
  bodies: CreateSaleBody[],
): Promise<SaleOutcome[]> {
  return recordSalesOf(
    deps,
    caller.businessId,
    bodies.map((body) => ({ caller, body })),
  );
}

/** recordSales for sales of one business sent by several callers (sale-coalescer.ts). */
export async function recordSalesOf(
  deps: AppDeps,
  businessId: string,
  sent: { caller: Caller; body: CreateSaleBody }[],
): Promise<SaleOutcome[]> {
  const requests = sent.map(({ caller, body }) => ({
    caller,
    body,
    requestHash: hashSaleBody(body),
  }));
  const firsts = new Map<string, SaleRequest>();
  for (const request of requests) {
    const key = request.body.clientRequestId.toLowerCase();
    if (!firsts.has(key)) firsts.set(key, request);
  }
  const together = [...firsts.values()];
  const outcomes = new Map<SaleRequest, SaleOutcome>();
  if (together.length > 1) {
    try {
      const recorded = await recordTogether(deps, businessId, together);
      together.forEach((request, index) => outcomes.set(request, recorded[index] as SaleOutcome));
    } catch (error) {
      if (violatedUniqueConstraint(error) !== SALES_CLIENT_REQUEST_UNIQUE)
        deps.logger.warn({ err: error }, 'a batch write of sales failed; retrying sale by sale');
    }
  }
  for (const request of requests)
    if (!outcomes.has(request)) outcomes.set(request, await recordAlone(deps, businessId, request));
  const answered = requests.map((request) => outcomes.get(request) as SaleOutcome);
  return withEtimsBlocks(deps, businessId, await claimTillReceipts(deps, businessId, answered));
}

/**
 * M-Pesa at the till (modules/till), after the sales are committed: an M-Pesa payment
 * naming a till receipt (TransID) claims it, or is flagged `needsReview` when another sale
 * holds it or the amount differs. Only new sales; a replay answers as stored.
 */
async function claimTillReceipts(
  deps: AppDeps,
  businessId: string,
  outcomes: SaleOutcome[],
): Promise<SaleOutcome[]> {
  const created = outcomes.flatMap((outcome) =>
    outcome.status === 'created' ? [outcome.sale] : [],
  );
  if (created.length === 0) return outcomes;
  const claimed = await claimReceiptsOfNewSales(deps, businessId, created);
  const byId = new Map(claimed.map((sale) => [sale.id, sale]));
  return outcomes.map((outcome) =>
    outcome.status === 'created'
      ? { ...outcome, sale: byId.get(outcome.sale.id) ?? outcome.sale }
      : outcome,
  );
}

/**
 * The `etims` block of each replayed sale, read in one query. A new sale's block came with
 * its write (a pending invoice, or none): no read for it.
 */
async function withEtimsBlocks(
  deps: AppDeps,
  businessId: string,
  outcomes: SaleOutcome[],
): Promise<SaleOutcome[]> {
  const ids = outcomes.flatMap((outcome) =>
    outcome.status === 'duplicate' ? [outcome.sale.id] : [],
  );
  if (ids.length === 0) return outcomes;
  const blocks = await etimsBlocksOfSales(deps.db, businessId, ids);
  return outcomes.map((outcome) =>
    outcome.status !== 'duplicate'
      ? outcome
      : { ...outcome, sale: { ...outcome.sale, etims: blocks.get(outcome.sale.id) ?? null } },
  );
}

export interface SyncItemResult {
  clientRequestId: string | null;
  status: 'created' | 'duplicate' | 'rejected';
  sale?: Sale;
  /** Why it was rejected (an AppError, a ZodError or an unexpected error). */
  error?: unknown;
}

/**
 * /sales/sync: each item is validated on its own (an invalid one is rejected, echoing its
 * clientRequestId when it is a short string), the valid ones recorded together.
 */
export async function syncSales(
  deps: AppDeps,
  caller: Caller,
  items: unknown[],
): Promise<SyncItemResult[]> {
  const parsed = items.map((item) => ({ item, result: CreateSaleBody.safeParse(item) }));
  const bodies = parsed.flatMap(({ result }) => (result.success ? [result.data] : []));
  const recorded = (await recordSales(deps, caller, bodies)).values();
  return parsed.map(({ item, result }): SyncItemResult => {
    if (result.success) {
      const outcome = recorded.next().value as SaleOutcome;
      if (outcome.status === 'rejected' && !(outcome.error instanceof AppError)) {
        const { clientRequestId, error } = outcome;
        deps.logger.error({ err: error, clientRequestId }, 'sync: a sale failed unexpectedly');
      }
      return outcome;
    }
    const rawId =
      item !== null && typeof item === 'object'
        ? (item as { clientRequestId?: unknown }).clientRequestId
        : undefined;
    const clientRequestId =
      typeof rawId === 'string' && rawId.length <= ECHOED_CLIENT_REQUEST_ID_MAX ? rawId : null;
    return { clientRequestId, status: 'rejected', error: result.error };
  });
}

/**
 * POST /sales: one sale, written together with the business's other sales arriving while a
 * write is in flight (sale-coalescer.ts); its refusal thrown (the route answers it).
 */
export async function createSale(
  deps: AppDeps,
  caller: Caller,
  body: CreateSaleBody,
): Promise<{ status: 'created' | 'duplicate'; sale: Sale }> {
  const outcome = await coalesced(deps, caller.businessId, { caller, body }, (sent) =>
    recordSalesOf(deps, caller.businessId, sent),
  );
  if (outcome.status === 'rejected') throw outcome.error;
  return outcome;
}

/**
 * The idempotency fingerprint: sha256 of the canonical body (keys sorted, instants
 * normalised, UUIDs lower-cased as PostgreSQL compares them).
 */
export const hashSaleBody = (body: CreateSaleBody): string =>
  requestFingerprint({
    ...body,
    clientRequestId: body.clientRequestId.toLowerCase(),
    lines: body.lines.map((line) => ({ ...line, productId: line.productId.toLowerCase() })),
    ...(body.locationId ? { locationId: body.locationId.toLowerCase() } : {}),
    ...(body.customerId ? { customerId: body.customerId.toLowerCase() } : {}),
  });

/** One sale on its own; where it lost a race (or failed a rule the winner passed), the winner's sale. */
async function recordAlone(
  deps: AppDeps,
  businessId: string,
  request: SaleRequest,
): Promise<SaleOutcome> {
  const { clientRequestId } = request.body;
  try {
    const [outcome] = await recordTogether(deps, businessId, [request]);
    if (!outcome) throw new Error('one outcome per sale');
    const brokeARule = outcome.status === 'rejected' && isUnprocessable(outcome.error);
    if (!brokeARule) return outcome;
    return (await winnerOf(deps, businessId, request)) ?? outcome;
  } catch (error) {
    if (violatedUniqueConstraint(error) !== SALES_CLIENT_REQUEST_UNIQUE)
      return { clientRequestId, status: 'rejected', error };
    return (
      (await winnerOf(deps, businessId, request)) ?? { clientRequestId, status: 'rejected', error }
    );
  }
}

const isUnprocessable = (error: unknown) => error instanceof AppError && error.status === 422;

async function winnerOf(deps: AppDeps, businessId: string, request: SaleRequest) {
  const [winner] = await findStoredSales(deps.db, businessId, [request.body.clientRequestId]);
  return winner && replay(request, winner);
}

/** Steps 1–4 for sales with distinct clientRequestIds; throws the unique violation of a race. */
async function recordTogether(
  deps: AppDeps,
  businessId: string,
  requests: SaleRequest[],
): Promise<SaleOutcome[]> {
  const productIds = productIdsOf(requests);
  // The lookup and the first write attempt on the hot pool (generic plans, deps.ts).
  const { stored, products, locations, customers } = await lookUpSales(
    deps.hotDb,
    businessId,
    requests.map((request) => request.body.clientRequestId),
    productIds,
    customerIdsOf(requests),
  );
  const storedByKey = new Map(stored.map((row) => [row.sale.clientRequestId.toLowerCase(), row]));
  const storedOf = (request: SaleRequest) =>
    storedByKey.get(request.body.clientRequestId.toLowerCase());
  const fresh = requests.filter((request) => !storedOf(request));
  // The sale statement runs alone (autocommit), outside deps.db.transaction, and changes
  // stock the catalog pages show: withCatalogBump bumps the catalog version after it. The
  // locked retry is a deps.db.transaction, which bumps by itself.
  const written =
    fresh.length === 0
      ? []
      : ((await withCatalogBump(deps, businessId, () =>
          draftAndWrite(deps, deps.hotDb, businessId, fresh, products, locations, customers),
        )) ??
        (await deps.db.transaction(async (tx) => {
          // The catalog write order first, then product row locks (catalog.repo.ts).
          await beginCatalogWrite(tx, businessId);
          const locked = await lockProducts(tx, businessId, productIds);
          const again = await draftAndWrite(
            deps,
            tx,
            businessId,
            fresh,
            locked,
            locations,
            customers,
          );
          if (!again) throw new Error('a product changed while locked');
          return again;
        })));
  const outcomes = new Map(fresh.map((request, index) => [request, written[index]]));
  return requests.map((request) => {
    const row = storedOf(request);
    return row ? replay(request, row) : (outcomes.get(request) as SaleOutcome);
  });
}

/**
 * Drafts the sales against `products` and writes those that pass in one statement. Returns
 * null when a product changed since it was read (nothing written).
 */
async function draftAndWrite(
  deps: AppDeps,
  db: DbOrTx,
  businessId: string,
  requests: SaleRequest[],
  products: LockedProduct[],
  locations: SaleLocation[],
  customers: string[],
): Promise<SaleOutcome[] | null> {
  const shared = {
    businessId,
    receivedAt: deps.clock(),
    products: new Map(products.map((product) => [product.id, product])),
    locations: new Map(locations.map((location) => [location.id, location])),
    // One running level per product across the drafts (each sale takes from the last).
    levels: new Map<string, number>(),
    customers: new Set(customers),
  };
  const drafted = requests.map(({ caller, body, requestHash }): DraftedSale | AppError => {
    try {
      return draftSale({ ...shared, cashierId: caller.userId, caller }, body, requestHash);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
  });
  const drafts = drafted.filter((draft): draft is DraftedSale => !(draft instanceof AppError));
  // The sale.created payload is the Sale resource; the statement patches its number in.
  const payloads = drafts.map((draft) => draft.present(0));
  const written =
    drafts.length === 0
      ? []
      : await writeSales(db, {
          businessId,
          drafts,
          payloads,
          products,
        });
  if (!written) return null;
  const sales = new Map(
    drafts.map((draft, index) => {
      const { number, etims } = written[index] as WrittenSale;
      return [draft, { ...payloads[index], number, etims: etims ? pendingInvoiceBlock() : null }];
    }),
  );
  return drafted.map((draft, index) => {
    const { clientRequestId } = (requests[index] as SaleRequest).body;
    return draft instanceof AppError
      ? { clientRequestId, status: 'rejected', error: draft }
      : { clientRequestId, status: 'created', sale: sales.get(draft) as Sale };
  });
}

function replay(request: SaleRequest, stored: StoredSale): SaleOutcome {
  const { clientRequestId } = request.body;
  const outcome = replayOf({ ...stored, resource: stored.sale }, request.requestHash, 'sale');
  return outcome.status === 'duplicate'
    ? { clientRequestId, status: 'duplicate', sale: outcome.resource }
    : { clientRequestId, status: 'rejected', error: outcome.error };
}

const productIdsOf = (requests: SaleRequest[]) =>
  [
    ...new Set(
      requests.flatMap(({ body }) => body.lines.map((line) => line.productId.toLowerCase())),
    ),
  ].sort();

/** The customers the sales name (customers area), lower-cased as PostgreSQL answers ids. */
const customerIdsOf = (requests: SaleRequest[]) => [
  ...new Set(
    requests.flatMap(({ body }) => (body.customerId ? [body.customerId.toLowerCase()] : [])),
  ),
];
