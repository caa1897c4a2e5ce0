import type { AppDeps } from '../../deps.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { notFound } from '../../lib/errors.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { UUID_PATTERN } from '../../lib/ids.js';
import { reverseSaleCredit } from '../customers/customer-ledger.js';
import { applyStockChanges } from '../inventory/inventory.service.js';
import {
  findBusinessName,
  findSaleRow,
  findSaleStockMovements,
  listSaleRows,
  loadSales,
  lockSaleRow,
  markSaleVoided,
} from './sales.repo.js';
import type { ListSalesQuery, Sale } from './sales.schemas.js';
import type { Caller } from '../auth/caller.js';

/** Cashiers without `sales:read-all` see only the sales they rang up. */
const ownSalesOnly = (caller: Caller) =>
  caller.permissions.has('sales:read-all') ? undefined : caller.userId;
import { mayActAt, outsideAssignment, readScope } from '../locations/location-access.js';

const DEFAULT_LIMIT = 50;

/** One sale with lines and payments; another cashier's (for a read-own caller) is 404. */
export async function getSale(deps: AppDeps, caller: Caller, id: string): Promise<Sale> {
  const row = await findSaleRow(deps.db, caller.businessId, id, ownSalesOnly(caller));
  if (!row) throw notFound('Sale');
  if (row.locationId && !mayActAt(caller, row.locationId)) throw outsideAssignment();
  const [sale] = await loadSales(deps.db, [row]);
  if (!sale) throw notFound('Sale');
  return sale;
}

/** Sales newest first by (occurredAt, id), filtered by business-local days, status and cashier. */
export async function listSales(
  deps: AppDeps,
  caller: Caller,
  query: ListSalesQuery,
): Promise<{ data: Sale[]; nextCursor: string | null }> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const rows = await listSaleRows(deps.db, {
    businessId: caller.businessId,
    timezone: caller.businessTimezone,
    from: query.from,
    to: query.to,
    status: query.status,
    cashierId: query.cashierId,
    locationIds: await readScope(deps.db, caller, query.locationId),
    ownerCashierId: ownSalesOnly(caller),
    after: query.cursor === undefined ? undefined : decodeSaleCursor(query.cursor),
    limit,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: await loadSales(deps.db, page),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.occurredAt.toISOString(), last.id]) : null,
  };
}

const isSaleKey = (values: unknown[]): values is [string, string] =>
  values.length === 2 &&
  typeof values[0] === 'string' &&
  !Number.isNaN(Date.parse(values[0])) &&
  typeof values[1] === 'string' &&
  UUID_PATTERN.test(values[1]);

/** Sales are listed newest first by (occurredAt, id); the cursor is the last row's key. */
function decodeSaleCursor(cursor: string): { occurredAt: Date; id: string } {
  const [at, id] = decodeCursor(cursor, isSaleKey);
  return { occurredAt: new Date(at), id };
}

/**
 * Voids a sale once: stock its sale movements took is given back through 'void' movements
 * and `sale.voided` is emitted. Voiding a voided sale answers it unchanged and writes nothing.
 */
export async function voidSale(
  deps: AppDeps,
  caller: Caller,
  id: string,
  reason: string,
): Promise<Sale> {
  return deps.db.transaction(async (tx) => {
    const row = await lockSaleRow(tx, caller.businessId, id);
    if (!row) throw notFound('Sale');
    if (row.locationId && !mayActAt(caller, row.locationId)) throw outsideAssignment();
    if (row.status === 'voided') {
      const [sale] = await loadSales(tx, [row]);
      if (!sale) throw notFound('Sale');
      return sale;
    }
    const taken = await findSaleStockMovements(tx, caller.businessId, id);
    if (taken.length > 0) {
      // Back to the location each sale movement took it from (the sale's).
      await applyStockChanges(
        tx,
        caller,
        taken.map((movement) => ({
          productId: movement.productId,
          locationId: movement.locationId ?? row.locationId ?? '',
          type: 'void',
          quantity: -movement.delta,
          saleId: id,
        })),
      );
    }
    // Customers area: what the sale put on a customer's account comes off ('void' entry).
    await reverseSaleCredit(tx, {
      businessId: caller.businessId,
      saleId: id,
      createdBy: caller.userId,
    });
    const voided = await markSaleVoided(tx, caller.businessId, id, {
      voidedAt: deps.clock(),
      voidReason: reason,
      voidedBy: caller.userId,
    });
    const [sale] = await loadSales(tx, [voided]);
    if (!sale) throw notFound('Sale');
    await writeOutbox(tx, {
      kind: 'event',
      type: 'sale.voided',
      businessId: caller.businessId,
      payload: sale,
    });
    return sale;
  });
}

/** Queues the receipt email (outbox `sale-receipt`); a sale the caller cannot see is 404. */
export async function emailSaleReceipt(
  deps: AppDeps,
  caller: Caller,
  id: string,
  email: string,
): Promise<void> {
  const sale = await getSale(deps, caller, id);
  const businessName = await findBusinessName(deps.db, caller.businessId);
  await writeOutbox(deps.db, {
    kind: 'email',
    type: 'sale-receipt',
    businessId: caller.businessId,
    payload: { to: email, businessName, sale },
  });
}
