import { createHash } from 'node:crypto';
import type { DbOrTx } from '../../db/client.js';
import { beginCatalogWrite } from '../catalog/catalog.service.js';
import type { AppDeps } from '../../deps.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { AppError } from '../../lib/errors.js';
import { draftSale, type DraftContext, type SaleDraft } from './sale-draft.js';
import { newId } from '../../lib/ids.js';
import { lockProducts, lookUpSales, type LockedProduct } from './sales-write.repo.js';
import { writeSalesWithChildren } from './sales-write.statement.js';
import { findStoredSales, type StoredSale } from './sales.repo.js';
import { CreateSaleBody, ECHOED_CLIENT_REQUEST_ID_MAX, type Sale } from './sales.schemas.js';

/** A clientRequestId was taken by another request meanwhile: roll back (numbers included). */
class BatchConflict extends Error {}

export interface Actor {
  businessId: string;
  userId: string;
}

export interface CreateSaleOutcome {
  /** `duplicate`: the clientRequestId was recorded before (with the same body). */
  status: 'created' | 'duplicate';
  sale: Sale;
}

/**
 * The idempotency fingerprint: sha256 of the canonical body (keys sorted, instants
 * normalised, UUIDs lower-cased as PostgreSQL compares them).
 */
export const hashSaleBody = (body: CreateSaleBody): string =>
  createHash('sha256')
    .update(
      canonicalJson({
        ...body,
        clientRequestId: body.clientRequestId.toLowerCase(),
        lines: body.lines.map((line) => ({ ...line, productId: line.productId.toLowerCase() })),
      }),
    )
    .digest('hex');

/**
 * Records a sale exactly once per (business, clientRequestId): the unique index decides,
 * inside the sale's write, so it holds across processes. A replay with the same body
 * answers the stored sale; another body is 422 IDEMPOTENCY_KEY_REUSED and writes nothing.
 */
export async function createSale(
  deps: AppDeps,
  actor: Actor,
  body: CreateSaleBody,
): Promise<CreateSaleOutcome> {
  const requestHash = hashSaleBody(body);
  const candidates = [{ body, requestHash }];
  const productIds = productIdsOf(candidates);
  // One read, no locks, no transaction id: a replay is answered from it; a new sale is
  // drafted from its products and written by one autocommit statement that locks them
  // and checks they did not change (no transaction held across round trips).
  const lookup = await lookUpSales(deps.db, actor.businessId, [body.clientRequestId], productIds);
  const [existing] = lookup.stored;
  if (existing) return replay(existing, requestHash);
  try {
    const { products } = lookup;
    let outcomes = await writeSales(deps, deps.db, actor, candidates, products);
    // A product changed in between (price, name, …): draft again under lock.
    outcomes ??= await deps.db.transaction(async (tx) => {
      await beginCatalogWrite(tx, actor.businessId);
      const locked = await lockProducts(tx, actor.businessId, productIds);
      return writeSales(deps, tx, actor, candidates, locked);
    });
    const [outcome] = outcomes ?? [];
    // A rule broken: nothing was written.
    if (outcome && 'error' in outcome) throw outcome.error;
    if (!outcome) throw new Error('a product changed while locked');
    return { status: 'created', sale: outcome.sale };
  } catch (error) {
    // Lost a race with the same clientRequestId (or failed a rule the winner passed before
    // its body changed): the stored sale is the answer, or IDEMPOTENCY_KEY_REUSED.
    if (error instanceof BatchConflict || (error instanceof AppError && error.status === 422)) {
      const [winner] = await findStoredSales(deps.db, actor.businessId, [body.clientRequestId]);
      if (winner) return replay(winner, requestHash);
    }
    throw error;
  }
}

const productIdsOf = (candidates: { body: CreateSaleBody }[]) =>
  [
    ...new Set(
      candidates.flatMap(({ body }) => body.lines.map((line) => line.productId.toLowerCase())),
    ),
  ].sort();

/** The pg error behind drizzle's wrapper, when it is the clientRequestId unique violation. */
function isClientRequestIdTaken(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (candidate.code === '23505') return candidate.constraint === 'sales_client_request_unique';
    current = candidate.cause;
  }
  return false;
}

const keyReused = () =>
  new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    'This clientRequestId was already used for a sale with different content; a new sale needs a new clientRequestId',
    { errors: [{ path: 'clientRequestId', message: 'already used', code: 'idempotency' }] },
  );

function replay(stored: StoredSale, requestHash: string): CreateSaleOutcome {
  if (stored.requestHash !== requestHash) throw keyReused();
  return { status: 'duplicate', sale: stored.sale };
}

/**
 * Drafts sales against `products` and writes them in one statement (sales-write.statement.ts).
 * Every rule is checked in memory; a sale that breaks one is left out (its error returned),
 * never blocking the others. Returns null when a product changed since it was read (nothing
 * written). Throws BatchConflict when a clientRequestId was taken meanwhile (nothing
 * written; inside a transaction, it rolls back).
 */
async function writeSales(
  deps: AppDeps,
  db: DbOrTx,
  actor: Actor,
  candidates: { body: CreateSaleBody; requestHash: string }[],
  products: LockedProduct[],
): Promise<({ sale: Sale } | { error: AppError })[] | null> {
  const context: DraftContext = {
    businessId: actor.businessId,
    cashierId: actor.userId,
    receivedAt: deps.clock(),
    products: new Map(products.map((product) => [product.id, product])),
    levels: new Map(),
  };
  const outcomes = candidates.map(
    ({ body, requestHash }): { draft: SaleDraft } | { error: AppError } => {
      try {
        return { draft: draftSale(context, body, requestHash) };
      } catch (error) {
        if (error instanceof AppError) return { error };
        throw error;
      }
    },
  );
  const drafts = outcomes.flatMap((outcome) => ('draft' in outcome ? [outcome.draft] : []));
  if (drafts.length === 0) return outcomes.map((outcome) => outcome as { error: AppError });

  // The sale.created payload is the Sale resource; the statement patches its number in.
  const presented = drafts.map((draft) => draft.present(0));
  let numbers: number[] | null;
  try {
    numbers = await writeSalesWithChildren(db, {
      businessId: actor.businessId,
      createdBy: actor.userId,
      headers: drafts.map((draft) => draft.rows.header),
      lines: drafts.flatMap((draft) => draft.rows.lines),
      payments: drafts.flatMap((draft) => draft.rows.payments),
      movements: drafts.flatMap((draft) => draft.rows.movements),
      outbox: presented.map((sale) => ({ messageId: newId(), payload: sale, saleId: sale.id })),
      products,
    });
  } catch (error) {
    if (isClientRequestIdTaken(error)) throw new BatchConflict();
    throw error;
  }
  if (!numbers) return null;
  const sales = new Map(
    drafts.map((draft, index) => {
      const sale = presented[index] as Sale;
      return [draft, { ...sale, number: numbers[index] ?? 0 }] as const;
    }),
  );
  return outcomes.map((outcome) =>
    'draft' in outcome ? { sale: sales.get(outcome.draft) as Sale } : outcome,
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
 * Records a batch of offline sales; results in input order. Each sale is validated and
 * checked on its own (a bad one is rejected, never blocking the others), and the accepted
 * ones are written together in one transaction with set-based statements. Should another
 * request take one of the clientRequestIds meanwhile, the batch falls back to one
 * transaction per sale, which resolves every race exactly as POST /sales does.
 */
export async function syncSales(
  deps: AppDeps,
  actor: Actor,
  items: unknown[],
): Promise<SyncItemResult[]> {
  const results = new Map<number, SyncItemResult>();
  const firstOccurrence = new Set<string>();
  const fresh: Candidate[] = [];
  const repeated: Candidate[] = [];
  items.forEach((item, index) => {
    const rawId =
      item !== null && typeof item === 'object'
        ? (item as { clientRequestId?: unknown }).clientRequestId
        : undefined;
    const parsed = CreateSaleBody.safeParse(item);
    if (!parsed.success) {
      const clientRequestId =
        typeof rawId === 'string' && rawId.length <= ECHOED_CLIENT_REQUEST_ID_MAX ? rawId : null;
      results.set(index, { clientRequestId, status: 'rejected', error: parsed.error });
      return;
    }
    const candidate = { index, body: parsed.data, requestHash: hashSaleBody(parsed.data) };
    const key = parsed.data.clientRequestId.toLowerCase();
    if (firstOccurrence.has(key)) {
      repeated.push(candidate);
    } else {
      firstOccurrence.add(key);
      fresh.push(candidate);
    }
  });

  // Replays of sales recorded before, and the products of the rest: one statement.
  const lookup = await lookUpSales(
    deps.db,
    actor.businessId,
    fresh.map((candidate) => candidate.body.clientRequestId),
    productIdsOf(fresh),
  );
  const stored = new Map(lookup.stored.map((row) => [row.sale.clientRequestId.toLowerCase(), row]));
  const toWrite: Candidate[] = [];
  for (const candidate of fresh) {
    const { clientRequestId } = candidate.body;
    const row = stored.get(clientRequestId.toLowerCase());
    if (!row) toWrite.push(candidate);
    else if (row.requestHash !== candidate.requestHash)
      results.set(candidate.index, { clientRequestId, status: 'rejected', error: keyReused() });
    else results.set(candidate.index, { clientRequestId, status: 'duplicate', sale: row.sale });
  }

  if (toWrite.length > 0) {
    try {
      // As createSale: drafted from products read without a lock, written in one statement
      // that locks them and checks them; drafted again under lock if one changed meanwhile.
      const productIds = productIdsOf(toWrite);
      const outcomes =
        (await writeSales(deps, deps.db, actor, toWrite, lookup.products)) ??
        (await deps.db.transaction(async (tx) => {
          // The catalog write order first, then product row locks (catalog.repo.ts).
          await beginCatalogWrite(tx, actor.businessId);
          const locked = await lockProducts(tx, actor.businessId, productIds);
          const written = await writeSales(deps, tx, actor, toWrite, locked);
          if (!written) throw new Error('a product changed while locked');
          return written;
        }));
      outcomes.forEach((outcome, position) => {
        const candidate = toWrite[position];
        if (!candidate) return;
        const { clientRequestId } = candidate.body;
        results.set(
          candidate.index,
          'sale' in outcome
            ? { clientRequestId, status: 'created', sale: outcome.sale }
            : { clientRequestId, status: 'rejected', error: outcome.error },
        );
      });
    } catch (error) {
      if (!(error instanceof BatchConflict)) {
        deps.logger.warn(
          { err: error },
          'sync: the batch transaction failed; retrying sale by sale',
        );
      }
      for (const candidate of toWrite)
        results.set(candidate.index, await createOne(deps, actor, candidate));
    }
  }
  // A clientRequestId repeated within the batch: resolved against what the batch recorded.
  for (const candidate of repeated)
    results.set(candidate.index, await createOne(deps, actor, candidate));

  return items.map(
    (_, index) =>
      results.get(index) ?? { clientRequestId: null, status: 'rejected', error: new Error('lost') },
  );
}

interface Candidate {
  index: number;
  body: CreateSaleBody;
  requestHash: string;
}

async function createOne(
  deps: AppDeps,
  actor: Actor,
  candidate: Candidate,
): Promise<SyncItemResult> {
  const { clientRequestId } = candidate.body;
  try {
    return { clientRequestId, ...(await createSale(deps, actor, candidate.body)) };
  } catch (error) {
    if (!(error instanceof AppError)) {
      deps.logger.error({ err: error, clientRequestId }, 'sync: a sale failed unexpectedly');
    }
    return { clientRequestId, status: 'rejected', error };
  }
}
