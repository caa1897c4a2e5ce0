import { createHash } from 'node:crypto';
import type { DbOrTx } from '../../db/client.js';
import {
  CUSTOMER_PAYMENTS_CLIENT_REQUEST_UNIQUE,
  type CustomerPaymentRow,
} from '../../db/schema/index.js';
import { violatedUniqueConstraint } from '../../db/pg-errors.js';
import type { AppDeps } from '../../deps.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import {
  decodeCursor,
  decodeIdCursor,
  encodeCursor,
  clampLimit,
  toIdPage,
} from '../../lib/cursor.js';
import { AppError, forbidden, notFound, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Caller } from '../auth/caller.js';
import { claimReceiptForCustomerPayment } from '../till/till.service.js';
import { writeCustomerEntry } from './customer-ledger.js';
import { toCustomer, toCustomerPayment, toStatementEntry } from './customer.presenter.js';
import * as repo from './customers.repo.js';
import { checkPaymentAmount } from './customers.rules.js';
import {
  DELETED_CUSTOMER_NAME,
  type CreateCustomerBody,
  type Customer,
  type CustomerListQuery,
  type CustomerPayment,
  type CustomerPaymentBody,
  type Statement,
  type StatementQuery,
  type UpdateCustomerBody,
} from './customers.schemas.js';

const hashOf = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');

const idempotencyReused = (what: string) =>
  new AppError(
    'IDEMPOTENCY_KEY_REUSED',
    `This ${what} was already used with different content; a new one needs a new id`,
    { errors: [{ path: what, message: 'already used', code: 'idempotency' }] },
  );

/** Setting a credit limit is a manager's decision (API.md: creditLimit is manager+). */
function checkMaySetCreditLimit(caller: Caller, creditLimit: number | null | undefined) {
  if (creditLimit !== undefined && !caller.permissions.has('customers:credit-limit'))
    throw forbidden('Only a manager or the owner may set a credit limit');
}

/**
 * POST /customers. With the till's own `id`, creating is idempotent: the same id and body
 * again answers the customer as it is now (`created: false`); another body, or an id some
 * other business uses, is 422 IDEMPOTENCY_KEY_REUSED.
 */
export async function createCustomer(
  deps: AppDeps,
  caller: Caller,
  body: CreateCustomerBody,
): Promise<{ created: boolean; customer: Customer }> {
  checkMaySetCreditLimit(caller, body.creditLimit);
  const id = body.id ?? newId();
  const requestHash = hashOf({ ...body, id });
  const inserted = await repo.insertCustomer(deps.db, {
    id,
    businessId: caller.businessId,
    name: body.name,
    phone: body.phone ?? null,
    email: body.email ?? null,
    kraPin: body.kraPin ?? null,
    creditLimit: body.creditLimit ?? null,
    note: body.note ?? null,
    requestHash,
    createdBy: caller.userId,
  });
  if (inserted) return { created: true, customer: toCustomer(inserted) };
  const existing = await repo.findCustomer(deps.db, caller.businessId, id);
  if (!existing || existing.requestHash !== requestHash) throw idempotencyReused('id');
  return { created: false, customer: toCustomer(existing) };
}

export async function getCustomer(deps: AppDeps, caller: Caller, id: string): Promise<Customer> {
  const row = await repo.findCustomer(deps.db, caller.businessId, id);
  if (!row) throw notFound('Customer');
  return toCustomer(row);
}

export async function listCustomers(
  deps: AppDeps,
  caller: Caller,
  query: CustomerListQuery,
): Promise<{ data: Customer[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const rows = await repo.listCustomers(deps.db, caller.businessId, {
    q: query.q,
    afterId: decodeIdCursor(query.cursor),
    limit,
  });
  return toIdPage(rows, limit, toCustomer);
}

/** PATCH: an erased customer cannot be given a name or contacts again (422). */
export async function updateCustomer(
  deps: AppDeps,
  caller: Caller,
  id: string,
  body: UpdateCustomerBody,
): Promise<Customer> {
  checkMaySetCreditLimit(caller, body.creditLimit);
  return deps.db.transaction(async (tx) => {
    const row = await repo.findCustomer(tx, caller.businessId, id, { lock: true });
    if (!row) throw notFound('Customer');
    if (row.deletedAt !== null)
      throw unprocessable('This customer was erased; create a new customer instead');
    const updated = await repo.updateCustomer(tx, caller.businessId, id, {
      name: body.name,
      phone: body.phone,
      email: body.email,
      kraPin: body.kraPin,
      creditLimit: body.creditLimit,
      note: body.note,
    });
    if (!updated) throw notFound('Customer');
    return toCustomer(updated);
  });
}

/**
 * DELETE (owner): erases the person — Kenya Data Protection Act 2019, right to erasure —
 * and keeps the facts: the sales, the ledger and the balance (still owed, still payable).
 * Erasing an erased customer changes nothing.
 */
export async function deleteCustomer(deps: AppDeps, caller: Caller, id: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const row = await repo.findCustomer(tx, caller.businessId, id, { lock: true });
    if (!row) throw notFound('Customer');
    if (row.deletedAt !== null) return;
    await repo.eraseCustomer(tx, caller.businessId, id, DELETED_CUSTOMER_NAME, deps.clock());
  });
}

/**
 * POST /customers/:id/payments: money received on the account, once per clientRequestId
 * (the same body again answers the payment recorded, `created: false`; another body → 422).
 * The customer row lock serialises it with credit sales and other payments, so the amount
 * is checked against the balance as it is (more than it → 422). An erased customer's
 * account can still be paid: the debt is a fact and the money was received.
 */
export async function recordPayment(
  deps: AppDeps,
  caller: Caller,
  customerId: string,
  body: CustomerPaymentBody,
): Promise<{ created: boolean; payment: CustomerPayment }> {
  const requestHash = hashOf({ ...body, customerId: customerId.toLowerCase() });
  try {
    return await deps.db.transaction(async (tx) => {
      const customer = await repo.findCustomer(tx, caller.businessId, customerId, { lock: true });
      if (!customer) throw notFound('Customer');
      const existing = await repo.findPaymentByRequest(tx, caller.businessId, body.clientRequestId);
      if (existing)
        return { created: false, payment: await replayPayment(tx, caller, existing, requestHash) };
      checkPaymentAmount(customer.balance, body.amount);
      const payment = await repo.insertPayment(tx, {
        id: newId(),
        businessId: caller.businessId,
        customerId: customer.id,
        clientRequestId: body.clientRequestId,
        requestHash,
        amount: body.amount,
        method: body.method,
        reference: body.reference ?? null,
        occurredAt: new Date(Date.parse(body.occurredAt)),
        shiftId: body.shiftId ?? null,
        createdBy: caller.userId,
      });
      const entry = await writeCustomerEntry(tx, {
        businessId: caller.businessId,
        customerId: customer.id,
        type: 'payment',
        money: body.amount,
        paymentId: payment.id,
        createdBy: caller.userId,
      });
      if (!entry) throw notFound('Customer');
      // M-Pesa naming a till receipt (TransID): claims it, or is flagged for review.
      const flagged = await claimReceiptForCustomerPayment(
        tx,
        deps.clock(),
        caller.businessId,
        payment,
      );
      const presented = toCustomerPayment(
        flagged ? { ...payment, needsReview: true } : payment,
        entry.balanceAfter,
      );
      await writeOutbox(tx, {
        kind: 'event',
        type: 'customer.payment_received',
        businessId: caller.businessId,
        payload: presented,
      });
      return { created: true, payment: presented };
    });
  } catch (error) {
    // Another customer's payment took this clientRequestId meanwhile (the same customer's
    // waited on the row lock and was found above).
    if (violatedUniqueConstraint(error) !== CUSTOMER_PAYMENTS_CLIENT_REQUEST_UNIQUE) throw error;
    const existing = await repo.findPaymentByRequest(
      deps.db,
      caller.businessId,
      body.clientRequestId,
    );
    if (!existing) throw error;
    return { created: false, payment: await replayPayment(deps.db, caller, existing, requestHash) };
  }
}

async function replayPayment(
  db: DbOrTx,
  caller: Caller,
  existing: CustomerPaymentRow,
  requestHash: string,
): Promise<CustomerPayment> {
  if (existing.requestHash !== requestHash) throw idempotencyReused('clientRequestId');
  const entry = await repo.findPaymentEntry(db, caller.businessId, existing.id);
  return toCustomerPayment(existing, entry?.balanceAfter ?? 0);
}

const isPositionKey = (values: unknown[]): values is [number] =>
  values.length === 1 && Number.isSafeInteger(values[0]) && (values[0] as number) >= 0;

/** GET /customers/:id/statement: entries in ledger order; the balance is Σ of all entries. */
export async function customerStatement(
  deps: AppDeps,
  caller: Caller,
  customerId: string,
  query: StatementQuery,
): Promise<Statement> {
  const customer = await repo.findCustomer(deps.db, caller.businessId, customerId);
  if (!customer) throw notFound('Customer');
  const limit = clampLimit(query.limit);
  const afterPosition =
    query.cursor === undefined ? undefined : decodeCursor(query.cursor, isPositionKey)[0];
  const rows = await repo.listEntries(deps.db, caller.businessId, customer.id, {
    from: query.from === undefined ? undefined : new Date(Date.parse(query.from)),
    to: query.to === undefined ? undefined : new Date(Date.parse(query.to)),
    afterPosition,
    limit,
  });
  const page = rows.slice(0, limit);
  const first = page[0];
  const last = page.at(-1);
  return {
    customerId: customer.id,
    balance: customer.balance,
    openingBalance: first ? first.balanceAfter - first.amount : 0,
    data: page.map(toStatementEntry),
    nextCursor: rows.length > limit && last ? encodeCursor([last.position]) : null,
  };
}
