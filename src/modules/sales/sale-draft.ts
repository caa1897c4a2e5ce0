import { unprocessable } from '../../lib/errors.js';
import { mayActAt, outsideAssignment, type LocationCaller } from '../locations/location-access.js';
import { newId } from '../../lib/ids.js';
import type { SaleLineRow, SaleRow } from '../../db/schema/index.js';
import { creditOf } from '../customers/customers.rules.js';
import { toSale } from './sale.presenter.js';
import type { DraftedSale, LockedProduct, SaleLocation, SaleMovement } from './sale-write.repo.js';
import {
  checkClientTotal,
  checkOccurredAt,
  computeSaleAmounts,
  settlePayments,
} from './sales.rules.js';
import type { CreateSaleBody } from './sales.schemas.js';

export interface DraftContext {
  businessId: string;
  cashierId: string;
  receivedAt: Date;
  products: Map<string, LockedProduct>;
  /** The business's locations, archived ones included. */
  locations: Map<string, SaleLocation>;
  /** Whose assignment limits where the sale may be (read when the request was authenticated). */
  caller: LocationCaller;
  /**
   * Running stock levels in thousandths, per product, shared by the sales of one
   * transaction (a batch): each draft takes from what the previous ones left.
   */
  levels: Map<string, number>;
  /** The business's customers among those the sales name (customers area). */
  customers: Set<string>;
}

const thousandths = (quantity: number) => Math.round(quantity * 1000);

/**
 * A sale checked against its products and turned into the rows to insert, before it has a
 * number. Drafting applies every business rule (throws the 422 it would answer) and writes
 * nothing, so a batch can draft all its sales, drop the rejected ones and insert the rest
 * in one statement.
 */
export function draftSale(
  context: DraftContext,
  body: CreateSaleBody,
  requestHash: string,
): DraftedSale {
  const occurredAt = new Date(Date.parse(body.occurredAt));
  checkOccurredAt(occurredAt, context.receivedAt);
  const locationId = saleLocation(context, body.locationId);

  // PostgreSQL answers ids lower-case; a device may send them upper-case.
  const productIdOf = (line: CreateSaleBody['lines'][number]) => line.productId.toLowerCase();
  const unknown = body.lines.flatMap((line, index) =>
    context.products.has(productIdOf(line))
      ? []
      : [{ path: `lines.${index}.productId`, message: 'No such product', code: 'not_found' }],
  );
  if (unknown.length > 0) throw unprocessable('A line names an unknown product', unknown);
  const lines = body.lines.map((line) => {
    const product = context.products.get(productIdOf(line));
    if (!product) throw new Error('checked above');
    const input = {
      quantity: line.quantity,
      unitPrice: line.unitPrice ?? product.price,
      discount: line.discount ?? 0,
      taxRate: product.taxRate,
    };
    return { line, product, input };
  });
  const amounts = computeSaleAmounts(
    lines.map(({ input }) => input),
    body.discount ?? 0,
  );
  checkClientTotal(amounts.total, body.total);
  const { change } = settlePayments(amounts.total, body.payments);
  const credit = saleCredit(context, body);

  // Every rule passed: from here on nothing throws, so the shared levels may change.
  const sale: SaleRow = {
    id: newId(),
    businessId: context.businessId,
    clientRequestId: body.clientRequestId,
    requestHash,
    // Numbered by the write statement, from the business's counter.
    number: 0,
    receiptNumber: body.receiptNumber ?? null,
    cashierId: context.cashierId,
    locationId,
    shiftId: body.shiftId ?? null,
    occurredAt,
    receivedAt: context.receivedAt,
    subtotal: amounts.subtotal,
    discount: amounts.discount,
    tax: amounts.tax,
    total: amounts.total,
    change,
    customerPhone: body.customerPhone ?? null,
    customerId: credit.customerId,
    note: body.note ?? null,
    status: 'completed',
    voidedAt: null,
    voidReason: null,
    voidedBy: null,
  };
  const lineRows = lines.map(({ line, product, input }, index): SaleLineRow => {
    const computed = amounts.lines[index];
    if (!computed) throw new Error('one amount per line');
    return {
      id: newId(),
      saleId: sale.id,
      businessId: context.businessId,
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
    saleId: sale.id,
    businessId: context.businessId,
    position: index,
    method: payment.method,
    amount: payment.amount,
    reference: payment.reference ?? null,
  }));
  const movements = takeStock(context, sale.id, locationId, body.lines);
  return {
    sale,
    lines: lineRows,
    payments: paymentRows,
    movements,
    credit:
      credit.customerId !== null && credit.amount > 0
        ? { customerId: credit.customerId, amount: credit.amount }
        : null,
    present: (number) => toSale({ ...sale, number }, lineRows, paymentRows),
  };
}

/**
 * The sale's customer and what it puts on their account (customers area): `credit`
 * payments need a customer (422), and the customer must be the business's (422, like an
 * unknown product). An erased customer is accepted: the till may have sold before it heard.
 */
function saleCredit(
  context: DraftContext,
  body: CreateSaleBody,
): { customerId: string | null; amount: number } {
  const customerId = body.customerId?.toLowerCase() ?? null;
  const amount = creditOf(body.payments);
  if (customerId === null && amount > 0) {
    throw unprocessable(
      'A credit payment puts the amount on a customer account: name the customer',
      [{ path: 'customerId', message: 'Required by a credit payment', code: 'required' }],
    );
  }
  if (customerId !== null && !context.customers.has(customerId)) {
    throw unprocessable('The sale names an unknown customer', [
      { path: 'customerId', message: 'No such customer', code: 'not_found' },
    ]);
  }
  return { customerId, amount };
}

/**
 * Where the sale happened (API.md "Branches"): the location given, else the caller's only
 * assigned one, else the default. Unknown (or another business's) → 422 like an unknown
 * product; outside the caller's assignment → 403. An archived location is accepted: the
 * till sold there before it heard of the archiving, and a sale is a fact.
 */
function saleLocation(context: DraftContext, requested: string | undefined): string {
  const { caller } = context;
  const id =
    requested?.toLowerCase() ??
    (caller.role !== 'owner' && caller.locationIds.length === 1
      ? caller.locationIds[0]
      : undefined) ??
    [...context.locations.values()].find((location) => location.isDefault)?.id;
  if (id === undefined || !context.locations.has(id)) {
    throw unprocessable('The sale names an unknown location', [
      { path: 'locationId', message: 'No such location', code: 'not_found' },
    ]);
  }
  if (!mayActAt(caller, id)) throw outsideAssignment();
  return id;
}

/**
 * The stock a sale takes from tracked products: one movement per product (even below zero),
 * levels as this transaction's drafts see them. The write statement shifts them by any
 * change since the products were read and derives `inventory.low_stock` from the result.
 */
function takeStock(
  context: DraftContext,
  saleId: string,
  locationId: string,
  lines: CreateSaleBody['lines'],
) {
  const taken = new Map<string, number>();
  for (const line of lines) {
    const productId = line.productId.toLowerCase();
    taken.set(productId, (taken.get(productId) ?? 0) + thousandths(line.quantity));
  }
  const movements: SaleMovement[] = [];
  for (const [productId, amount] of [...taken].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const product = context.products.get(productId);
    if (!product?.trackStock) continue;
    const before = context.levels.get(productId) ?? thousandths(product.stockQuantity);
    const after = before - amount;
    context.levels.set(productId, after);
    movements.push({
      id: newId(),
      saleId,
      productId,
      locationId,
      delta: -amount / 1000,
      quantityAfter: after / 1000,
    });
  }
  return movements;
}
