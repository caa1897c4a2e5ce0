import type {
  CustomerLedgerEntryRow,
  CustomerPaymentRow,
  CustomerRow,
} from '../../db/schema/index.js';
import type { Customer, CustomerPayment, StatementEntry } from './customers.schemas.js';

export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    name: row.name,
    phone: row.phone,
    email: row.email,
    kraPin: row.kraPin,
    creditLimit: row.creditLimit,
    note: row.note,
    balance: row.balance,
    deleted: row.deletedAt !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toCustomerPayment(row: CustomerPaymentRow, balanceAfter: number): CustomerPayment {
  return {
    id: row.id,
    customerId: row.customerId,
    clientRequestId: row.clientRequestId,
    amount: row.amount,
    method: row.method,
    reference: row.reference,
    occurredAt: row.occurredAt.toISOString(),
    shiftId: row.shiftId,
    balanceAfter,
    createdAt: row.createdAt.toISOString(),
    ...(row.needsReview ? { needsReview: true as const } : {}),
  };
}

export function toStatementEntry(row: CustomerLedgerEntryRow): StatementEntry {
  return {
    type: row.type,
    amount: row.amount,
    balanceAfter: row.balanceAfter,
    ...(row.saleId !== null ? { saleId: row.saleId } : {}),
    ...(row.returnId !== null ? { returnId: row.returnId } : {}),
    ...(row.paymentId !== null ? { paymentId: row.paymentId } : {}),
    at: row.createdAt.toISOString(),
  };
}
