import type { Tx } from '../../db/client.js';
import { RETURNS_CLIENT_REQUEST_UNIQUE, type ReturnLineRow } from '../../db/schema/index.js';
import { violatedUniqueConstraint } from '../../db/pg-errors.js';
import type { AppDeps } from '../../deps.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { replayOf, requestFingerprint } from '../../lib/client-request.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import type { Caller } from '../auth/caller.js';
import { writeCustomerEntry } from '../customers/customer-ledger.js';
import { applyStockChanges, type StockChange } from '../inventory/stock-ledger.js';
import {
  mayActAt,
  outsideAssignment,
  readScope,
  resolveWriteLocation,
} from '../locations/location-access.js';
import { etimsBlocksOfReturns } from '../etims/etims-block.js';
import { queueCreditNoteForReturn } from '../etims/etims.service.js';
import { checkOccurredAt } from '../sales/sales.rules.js';
import { lockSaleRow } from '../sales/sales.repo.js';
import { toReturn } from './return.presenter.js';
import {
  findReturnableLines,
  findReturnRow,
  findStoredReturn,
  insertReturn,
  listReturnRows,
  loadReturns,
  takeReturnNumber,
} from './returns.repo.js';
import { checkRefunds, returnedLineAmounts } from './returns.rules.js';
import type { CreateReturnBody, ListReturnsQuery, Return } from './returns.schemas.js';

export type ReturnOutcome = { status: 'created' | 'duplicate'; return: Return };

/**
 * Records a return (credit note) exactly once per (business, clientRequestId), offline-safe
 * like a sale (sales.service.ts; the fingerprint and replay rule are shared:
 * lib/client-request.ts):
 *
 * 1. A return already stored under the clientRequestId answers a replay (same body → 200)
 *    or `IDEMPOTENCY_KEY_REUSED` (another body), writing nothing.
 * 2. Otherwise, in one transaction: lock the sale row (the lock POST /sales/:id/void takes
 *    too, so returns of one sale — and its void — run one at a time), look for the stored
 *    return again (an identical request that held the lock first wins; this one replays),
 *    check every rule on the lines as they are now, take the next return number, insert,
 *    add the returned quantities to the sold lines (a guarded update), restock through the
 *    ledger and write `return.created` to the outbox.
 * 3. The unique index decides a race between requests for different sales with the same
 *    clientRequestId: the loser answers the winner's return (or IDEMPOTENCY_KEY_REUSED).
 */
export async function createReturn(
  deps: AppDeps,
  caller: Caller,
  body: CreateReturnBody,
): Promise<ReturnOutcome> {
  const requestHash = hashReturnBody(body);
  const stored = await findStoredReturn(deps.db, caller.businessId, body.clientRequestId);
  if (stored) return replay(stored, requestHash);
  try {
    return await deps.db.transaction((tx) => writeReturn(deps, tx, caller, body, requestHash));
  } catch (error) {
    if (violatedUniqueConstraint(error) !== RETURNS_CLIENT_REQUEST_UNIQUE) throw error;
    const winner = await findStoredReturn(deps.db, caller.businessId, body.clientRequestId);
    if (!winner) throw error;
    return replay(winner, requestHash);
  }
}

/** The idempotency fingerprint (ids are lower-cased by the schema). */
export const hashReturnBody = (body: CreateReturnBody): string => requestFingerprint(body);

function replay(
  stored: { requestHash: string; resource: Return },
  requestHash: string,
): ReturnOutcome {
  const outcome = replayOf(stored, requestHash, 'return');
  if (outcome.status === 'rejected') throw outcome.error;
  return { status: 'duplicate', return: outcome.resource };
}

async function writeReturn(
  deps: AppDeps,
  tx: Tx,
  caller: Caller,
  body: CreateReturnBody,
  requestHash: string,
): Promise<ReturnOutcome> {
  const receivedAt = deps.clock();
  const occurredAt = new Date(Date.parse(body.occurredAt));
  checkOccurredAt(occurredAt, receivedAt);
  const sale = await lockSaleRow(tx, caller.businessId, body.saleId);
  if (!sale) throw notFound('Sale');
  // Under the lock: an identical request may have been recorded while this one waited.
  const stored = await findStoredReturn(tx, caller.businessId, body.clientRequestId);
  if (stored) return replay(stored, requestHash);
  if (sale.status === 'voided') {
    throw unprocessable('A voided sale cannot be returned', [
      { path: 'saleId', message: 'The sale is voided', code: 'voided' },
    ]);
  }
  // Default: where the sale happened (older sales without one: the usual write location).
  const location = await resolveWriteLocation(
    tx,
    caller,
    body.locationId ?? sale.locationId ?? undefined,
    { unknown: 'unprocessable', allowArchived: true, path: 'locationId' },
  );

  const soldLines = new Map(
    (await findReturnableLines(tx, caller.businessId, sale.id)).map((line) => [line.id, line]),
  );
  const seen = new Set<string>();
  const id = newId();
  const lines = body.lines.map((input, index): ReturnLineRow => {
    const sold = soldLines.get(input.saleLineId);
    if (!sold || seen.has(input.saleLineId)) {
      throw unprocessable(
        sold ? 'A sale line may appear once in a return' : 'The line is not a line of this sale',
        [
          {
            path: `lines.${index}.saleLineId`,
            message: sold ? 'Listed twice' : 'Not a line of this sale',
            code: sold ? 'duplicate' : 'not_found',
          },
        ],
      );
    }
    seen.add(input.saleLineId);
    const amounts = returnedLineAmounts(
      {
        quantity: sold.quantity,
        net: sold.total - sold.saleDiscountShare,
        tax: sold.tax,
        taxRate: sold.taxRate,
        returnedQuantity: sold.returnedQuantity,
        returnedTotal: sold.returnedTotal,
        returnedTax: sold.returnedTax,
      },
      input.quantity,
      `lines.${index}.quantity`,
    );
    return {
      id: newId(),
      returnId: id,
      businessId: caller.businessId,
      saleLineId: sold.id,
      productId: sold.productId,
      position: index,
      name: sold.name,
      quantity: input.quantity,
      unitPrice: sold.unitPrice,
      taxRate: sold.taxRate,
      tax: amounts.tax,
      total: amounts.total,
      restocked: (input.restock ?? true) && sold.trackStock,
    };
  });
  const total = lines.reduce((sum, line) => sum + line.total, 0);
  const tax = lines.reduce((sum, line) => sum + line.tax, 0);
  checkRefunds(total, body.refunds, sale.customerId);

  const row = {
    id,
    businessId: caller.businessId,
    clientRequestId: body.clientRequestId,
    requestHash,
    number: await takeReturnNumber(tx, caller.businessId),
    saleId: sale.id,
    cashierId: caller.userId,
    locationId: location.id,
    shiftId: body.shiftId ?? null,
    occurredAt,
    receivedAt,
    reason: body.reason,
    subtotal: total,
    tax,
    total,
  };
  const refunds = body.refunds.map((refund, index) => ({
    id: newId(),
    returnId: id,
    businessId: caller.businessId,
    position: index,
    method: refund.method,
    amount: refund.amount,
    reference: refund.reference ?? null,
  }));
  if (!(await insertReturn(tx, { row, lines, refunds }))) {
    throw unprocessable('More would be returned than was sold', [
      { path: 'lines', message: 'Over the quantity sold', code: 'over_return' },
    ]);
  }
  const restocks = lines.flatMap((line): StockChange[] =>
    line.restocked
      ? [
          {
            productId: line.productId,
            locationId: location.id,
            type: 'return',
            quantity: line.quantity,
            saleId: sale.id,
            note: `Return ${row.number}`,
            path: `lines.${line.position}`,
          },
        ]
      : [],
  );
  if (restocks.length > 0) await applyStockChanges(tx, caller, restocks);
  // Refunded to the account: what the customer owes goes down by it (the debt book).
  const credited = refunds.reduce(
    (sum, refund) => (refund.method === 'credit' ? sum + refund.amount : sum),
    0,
  );
  if (credited > 0 && sale.customerId) {
    await writeCustomerEntry(tx, {
      businessId: caller.businessId,
      customerId: sale.customerId,
      type: 'return',
      money: credited,
      saleId: sale.id,
      returnId: id,
      createdBy: caller.userId,
    });
  }
  // KRA eTIMS: a sale with an invoice gets a credit note of these lines (sent by the job).
  const etims = (await queueCreditNoteForReturn(tx, caller.businessId, sale.id, id))
    ? ((await etimsBlocksOfReturns(tx, caller.businessId, [id])).get(id) ?? null)
    : null;
  const presented = toReturn(row, lines, refunds, etims);
  await writeOutbox(tx, {
    kind: 'event',
    type: 'return.created',
    businessId: caller.businessId,
    payload: presented,
  });
  return { status: 'created', return: presented };
}

/**
 * One return, as the API shows it: the read model receipts, shift reports and credit
 * notes reuse. Another business's is 404; one at a location outside the caller's
 * assignment is 403 (as GET /sales/:id).
 */
export async function getReturn(deps: AppDeps, caller: Caller, id: string): Promise<Return> {
  const row = await findReturnRow(deps.db, caller.businessId, id);
  if (!row) throw notFound('Return');
  if (!mayActAt(caller, row.locationId)) throw outsideAssignment();
  const [presented] = await loadReturns(deps.db, [row]);
  if (!presented) throw notFound('Return');
  return presented;
}

const DEFAULT_LIMIT = 50;

/** Returns newest first by (occurredAt, id), filtered by local days, sale and location. */
export async function listReturns(
  deps: AppDeps,
  caller: Caller,
  query: ListReturnsQuery,
): Promise<{ data: Return[]; nextCursor: string | null }> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const rows = await listReturnRows(deps.db, {
    businessId: caller.businessId,
    timezone: caller.businessTimezone,
    from: query.from,
    to: query.to,
    saleId: query.saleId,
    locationIds: await readScope(deps.db, caller, query.locationId),
    after: query.cursor === undefined ? undefined : decodeReturnCursor(query.cursor),
    limit,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: await loadReturns(deps.db, page),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.occurredAt.toISOString(), last.id]) : null,
  };
}

const isReturnKey = (values: unknown[]): values is [string, string] =>
  values.length === 2 &&
  typeof values[0] === 'string' &&
  !Number.isNaN(Date.parse(values[0])) &&
  typeof values[1] === 'string' &&
  UUID_PATTERN.test(values[1]);

function decodeReturnCursor(cursor: string): { occurredAt: Date; id: string } {
  const [at, id] = decodeCursor(cursor, isReturnKey);
  return { occurredAt: new Date(at), id };
}
