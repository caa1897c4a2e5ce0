import { createHash } from 'node:crypto';
import { beginCatalogWrite } from '../catalog/catalog.service.js';
import type { Tx } from '../../db/client.js';
import type { AppDeps } from '../../deps.js';
import { writeOutbox, type OutboxMessage } from '../../jobs/outbox.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { AppError } from '../../lib/errors.js';
import { draftSale, type DraftContext, type SaleDraft } from './sale-draft.js';
import { insertSaleChildren, insertSales, lockProducts } from './sales-write.repo.js';
import {
  findSaleByClientRequestId,
  findSalesByClientRequestIds,
  loadSales,
  type SaleRow,
} from './sales.repo.js';
import { CreateSaleBody, type Sale } from './sales.schemas.js';

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
 * inside the sale's transaction, so it holds across processes. A replay with the same body
 * answers the stored sale; another body is 422 IDEMPOTENCY_KEY_REUSED and writes nothing.
 */
export async function createSale(
  deps: AppDeps,
  actor: Actor,
  body: CreateSaleBody,
): Promise<CreateSaleOutcome> {
  const requestHash = hashSaleBody(body);
  // Fast path for replays: no locks, no transaction id.
  const existing = await findSaleByClientRequestId(deps.db, actor.businessId, body.clientRequestId);
  if (existing) return replay(deps, existing, requestHash);
  try {
    const [outcome] = await deps.db.transaction(async (tx) => {
      const outcomes = await writeSales(deps, tx, actor, [{ body, requestHash }]);
      // A rule broken: roll back (nothing was written, but be explicit).
      if (outcomes[0] && 'error' in outcomes[0]) throw outcomes[0].error;
      return outcomes;
    });
    if (!outcome || !('sale' in outcome)) throw new Error('one outcome per sale');
    return { status: 'created', sale: outcome.sale };
  } catch (error) {
    // Lost a race with the same clientRequestId (or failed a rule the winner passed before
    // its body changed): the stored sale is the answer, or IDEMPOTENCY_KEY_REUSED.
    if (error instanceof BatchConflict || (error instanceof AppError && error.status === 422)) {
      const winner = await findSaleByClientRequestId(
        deps.db,
        actor.businessId,
        body.clientRequestId,
      );
      if (winner) return replay(deps, winner, requestHash);
    }
    throw error;
  }
}

const keyReused = () =>
  new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    'This clientRequestId was already used for a sale with different content; a new sale needs a new clientRequestId',
    { errors: [{ path: 'clientRequestId', message: 'already used', code: 'idempotency' }] },
  );

async function replay(
  deps: AppDeps,
  row: SaleRow,
  requestHash: string,
): Promise<CreateSaleOutcome> {
  if (row.requestHash !== requestHash) throw keyReused();
  const [sale] = await loadSales(deps.db, [row]);
  if (!sale) throw new Error('stored sale could not be loaded');
  return { status: 'duplicate', sale };
}

/**
 * Drafts and writes sales in one transaction: products locked once in id order, every
 * rule checked in memory, then a few set-based statements for all of them. A sale that
 * breaks a rule is left out (its error returned), never blocking the others. Throws
 * BatchConflict when a clientRequestId was taken meanwhile (the transaction rolls back).
 */
async function writeSales(
  deps: AppDeps,
  tx: Tx,
  actor: Actor,
  candidates: { body: CreateSaleBody; requestHash: string }[],
): Promise<({ sale: Sale } | { error: AppError })[]> {
  const productIds = [
    ...new Set(
      candidates.flatMap(({ body }) => body.lines.map((line) => line.productId.toLowerCase())),
    ),
  ].sort();
  // Sales change stock, so they join the catalog's write order (delta sync never misses a
  // level) — taken before any product row lock, as every catalog writer does.
  const stamp = await beginCatalogWrite(tx, actor.businessId);
  const context: DraftContext = {
    businessId: actor.businessId,
    cashierId: actor.userId,
    receivedAt: deps.clock(),
    products: new Map(
      (await lockProducts(tx, actor.businessId, productIds)).map((product) => [
        product.id,
        product,
      ]),
    ),
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

  const numbers = await insertSales(
    tx,
    actor.businessId,
    drafts.map((draft) => draft.rows.header),
  );
  if (!numbers) throw new BatchConflict();
  await insertSaleChildren(tx, {
    businessId: actor.businessId,
    createdBy: actor.userId,
    movementType: 'sale',
    lines: drafts.flatMap((draft) => draft.rows.lines),
    payments: drafts.flatMap((draft) => draft.rows.payments),
    movements: drafts.flatMap((draft) => draft.rows.movements),
    stamp,
  });
  const sales = new Map(
    drafts.map((draft, index) => [draft, draft.present(numbers[index] ?? 0)] as const),
  );
  await writeOutbox(
    tx,
    drafts.flatMap((draft): OutboxMessage[] => [
      {
        kind: 'event',
        type: 'sale.created',
        businessId: actor.businessId,
        payload: sales.get(draft) ?? {},
      },
      ...draft.lowStock.map((payload) => ({
        kind: 'event' as const,
        type: 'inventory.low_stock',
        businessId: actor.businessId,
        payload,
      })),
    ]),
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
      const clientRequestId = typeof rawId === 'string' ? rawId : null;
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

  // Replays of sales recorded before: one query for all of them.
  const storedRows = await findSalesByClientRequestIds(
    deps.db,
    actor.businessId,
    fresh.map((candidate) => candidate.body.clientRequestId),
  );
  const stored = new Map(storedRows.map((row) => [row.clientRequestId.toLowerCase(), row]));
  const storedSales = new Map(
    (await loadSales(deps.db, storedRows)).map((sale) => [sale.id, sale] as const),
  );
  const toWrite: Candidate[] = [];
  for (const candidate of fresh) {
    const { clientRequestId } = candidate.body;
    const row = stored.get(clientRequestId.toLowerCase());
    if (!row) toWrite.push(candidate);
    else if (row.requestHash !== candidate.requestHash)
      results.set(candidate.index, { clientRequestId, status: 'rejected', error: keyReused() });
    else
      results.set(candidate.index, {
        clientRequestId,
        status: 'duplicate',
        sale: storedSales.get(row.id),
      });
  }

  if (toWrite.length > 0) {
    try {
      const outcomes = await deps.db.transaction((tx) => writeSales(deps, tx, actor, toWrite));
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
