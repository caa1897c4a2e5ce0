import { createHash } from 'node:crypto';
import type { Tx } from '../../db/client.js';
import type { AppDeps } from '../../deps.js';
import { writeOutbox, type OutboxMessage } from '../../jobs/outbox.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { AppError, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import {
  insertSaleDetails,
  insertSaleWithNextNumber,
  lockProducts,
  type LockedProduct,
  type StockChange,
} from './sales-write.repo.js';
import { findSaleByClientRequestId, loadSales, toSale, type SaleRow } from './sales.repo.js';
import {
  checkClientTotal,
  checkOccurredAt,
  computeSaleAmounts,
  settlePayments,
} from './sales.rules.js';
import { CreateSaleBody, type Sale } from './sales.schemas.js';

export interface Actor {
  businessId: string;
  userId: string;
}

export interface CreateSaleOutcome {
  /** `duplicate`: the clientRequestId was recorded before (with the same body). */
  status: 'created' | 'duplicate';
  sale: Sale;
}

/** Thrown inside the transaction when the clientRequestId is taken, to roll back the number. */
class ClientRequestTaken extends Error {}

/** The idempotency fingerprint: sha256 of the canonical body (keys sorted, instants normalised). */
export const hashSaleBody = (body: CreateSaleBody): string =>
  createHash('sha256').update(canonicalJson(body)).digest('hex');

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
    const sale = await deps.db.transaction((tx) => writeSale(deps, tx, actor, body, requestHash));
    return { status: 'created', sale };
  } catch (error) {
    // Lost a race with the same clientRequestId (or failed a rule the winner passed before
    // its body changed): the stored sale is the answer, or IDEMPOTENCY_KEY_REUSED.
    if (
      error instanceof ClientRequestTaken ||
      (error instanceof AppError && error.status === 422)
    ) {
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

async function replay(
  deps: AppDeps,
  row: SaleRow,
  requestHash: string,
): Promise<CreateSaleOutcome> {
  if (row.requestHash !== requestHash) {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      'This clientRequestId was already used for a sale with different content; a new sale needs a new clientRequestId',
      { errors: [{ path: 'clientRequestId', message: 'already used', code: 'idempotency' }] },
    );
  }
  const [sale] = await loadSales(deps.db, [row]);
  if (!sale) throw new Error('stored sale could not be loaded');
  return { status: 'duplicate', sale };
}

async function writeSale(
  deps: AppDeps,
  tx: Tx,
  actor: Actor,
  body: CreateSaleBody,
  requestHash: string,
): Promise<Sale> {
  const receivedAt = deps.clock();
  const occurredAt = new Date(Date.parse(body.occurredAt));
  checkOccurredAt(occurredAt, receivedAt);

  const productIds = [...new Set(body.lines.map((line) => line.productId))].sort();
  const products = new Map(
    (await lockProducts(tx, actor.businessId, productIds)).map((product) => [product.id, product]),
  );
  const unknown = body.lines.flatMap((line, index) =>
    products.has(line.productId)
      ? []
      : [{ path: `lines.${index}.productId`, message: 'No such product', code: 'not_found' }],
  );
  if (unknown.length > 0) throw unprocessable('A line names an unknown product', unknown);
  const productOf = (productId: string): LockedProduct => {
    const product = products.get(productId);
    if (!product) throw new Error('product checked above');
    return product;
  };

  const lines = body.lines.map((line) => {
    const product = productOf(line.productId);
    return {
      line,
      product,
      input: {
        quantity: line.quantity,
        unitPrice: line.unitPrice ?? product.price,
        discount: line.discount ?? 0,
        taxRate: product.taxRate,
      },
    };
  });
  const amounts = computeSaleAmounts(
    lines.map(({ input }) => input),
    body.discount ?? 0,
  );
  checkClientTotal(amounts.total, body.total);
  const { change } = settlePayments(amounts.total, body.payments);

  const header = {
    id: newId(),
    businessId: actor.businessId,
    clientRequestId: body.clientRequestId,
    requestHash,
    receiptNumber: body.receiptNumber ?? null,
    cashierId: actor.userId,
    occurredAt,
    receivedAt,
    subtotal: amounts.subtotal,
    discount: amounts.discount,
    tax: amounts.tax,
    total: amounts.total,
    change,
    customerPhone: body.customerPhone ?? null,
    note: body.note ?? null,
  };
  const number = await insertSaleWithNextNumber(tx, header);
  if (number === null) throw new ClientRequestTaken();

  const lineRows = lines.map(({ line, product, input }, index) => {
    const computed = amounts.lines[index];
    if (!computed) throw new Error('one amount per line');
    return {
      id: newId(),
      productId: product.id,
      position: index,
      name: product.name,
      sku: product.sku,
      quantity: line.quantity,
      unitPrice: input.unitPrice,
      catalogPrice: product.price,
      taxRate: product.taxRate,
      discount: computed.discount,
      saleDiscountShare: computed.saleDiscountShare,
      tax: computed.tax,
      total: computed.total,
    };
  });
  const paymentRows = body.payments.map((payment, index) => ({
    id: newId(),
    position: index,
    method: payment.method,
    amount: payment.amount,
    reference: payment.reference ?? null,
  }));
  const { stock, lowStock } = stockTaken(products, body.lines);
  await insertSaleDetails(tx, {
    businessId: actor.businessId,
    saleId: header.id,
    lines: lineRows,
    payments: paymentRows,
    stock,
    movementType: 'sale',
    createdBy: actor.userId,
  });

  const sale = toSale(
    { ...header, number, status: 'completed', voidedAt: null, voidReason: null },
    lineRows,
    paymentRows,
  );
  const messages: OutboxMessage[] = [
    { kind: 'event', type: 'sale.created', businessId: actor.businessId, payload: sale },
    ...lowStock.map((payload) => ({
      kind: 'event' as const,
      type: 'inventory.low_stock',
      businessId: actor.businessId,
      payload,
    })),
  ];
  await writeOutbox(tx, messages);
  return sale;
}

const thousandths = (quantity: number) => Math.round(quantity * 1000);

/**
 * The stock a sale takes from tracked products (one movement per product, even below zero),
 * and the products it takes from above their threshold to at or below it.
 */
function stockTaken(
  products: Map<string, LockedProduct>,
  lines: CreateSaleBody['lines'],
): { stock: StockChange[]; lowStock: Record<string, unknown>[] } {
  const taken = new Map<string, number>();
  for (const line of lines) {
    taken.set(line.productId, (taken.get(line.productId) ?? 0) + thousandths(line.quantity));
  }
  const stock: StockChange[] = [];
  const lowStock: Record<string, unknown>[] = [];
  for (const [productId, amount] of [...taken].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const product = products.get(productId);
    if (!product?.trackStock) continue;
    const after = (thousandths(product.stockQuantity) - amount) / 1000;
    stock.push({ movementId: newId(), productId, delta: -amount / 1000, quantityAfter: after });
    const threshold = product.lowStockThreshold;
    if (threshold !== null && product.stockQuantity > threshold && after <= threshold) {
      lowStock.push({
        productId,
        name: product.name,
        sku: product.sku,
        stockQuantity: after,
        lowStockThreshold: threshold,
      });
    }
  }
  return { stock, lowStock };
}

export interface SyncItemResult {
  clientRequestId: string | null;
  status: 'created' | 'duplicate' | 'rejected';
  sale?: Sale;
  /** Why it was rejected (an AppError, a ZodError or an unexpected error). */
  error?: unknown;
}

/**
 * Records a batch of offline sales, each validated and written on its own (its own
 * transaction), so one bad sale never blocks the others; results are in input order.
 */
export async function syncSales(
  deps: AppDeps,
  actor: Actor,
  items: unknown[],
): Promise<SyncItemResult[]> {
  const results: SyncItemResult[] = [];
  for (const item of items) {
    const rawId =
      item !== null && typeof item === 'object'
        ? (item as { clientRequestId?: unknown }).clientRequestId
        : undefined;
    const clientRequestId = typeof rawId === 'string' ? rawId : null;
    const parsed = CreateSaleBody.safeParse(item);
    if (!parsed.success) {
      results.push({ clientRequestId, status: 'rejected', error: parsed.error });
      continue;
    }
    try {
      const outcome = await createSale(deps, actor, parsed.data);
      results.push({ clientRequestId, ...outcome });
    } catch (error) {
      if (!(error instanceof AppError)) {
        deps.logger.error({ err: error, clientRequestId }, 'sync: a sale failed unexpectedly');
      }
      results.push({ clientRequestId, status: 'rejected', error });
    }
  }
  return results;
}
