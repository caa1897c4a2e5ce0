import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import type { CustomerEntryType } from '../../db/schema/index.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { newId } from '../../lib/ids.js';
import { exceedsCreditLimit, signedAmount } from './customers.rules.js';

/**
 * The customer ledger (the debt book). The rule, as for stock: a customer's `balance` is the
 * sum of their `customer_ledger_entries.amount`, and `entry_count` their number. Two writers
 * keep it: this function (payments, voids, credit refunds) and the sale write statement
 * (sale-write.statement.ts, its "customers" part) — both change the customer row and append
 * the entries in one statement: `UPDATE customers SET balance = balance + Δ` re-reads the
 * row under its lock, so concurrent writers serialise on the customer and each entry's
 * `balanceAfter` / `position` are the ones its update produced.
 */
export interface CustomerEntryInput {
  businessId: string;
  customerId: string;
  type: CustomerEntryType;
  /** Positive money; the sign comes from the type (customers.rules.ts signedAmount). */
  money: number;
  saleId?: string | null;
  returnId?: string | null;
  paymentId?: string | null;
  createdBy: string;
}

export interface WrittenCustomerEntry {
  id: string;
  customerId: string;
  type: CustomerEntryType;
  amount: number;
  balanceAfter: number;
  position: number;
  creditLimit: number | null;
}

/**
 * Appends one entry inside the caller's transaction `tx` and moves the balance with it;
 * null when the customer is not the business's. A `sale` entry that leaves the balance over
 * the credit limit also writes `customer.credit_limit_exceeded`. Exported for the returns
 * area (a refund with method `credit` is a `return` entry with its `returnId`).
 */
export async function writeCustomerEntry(
  tx: DbOrTx,
  input: CustomerEntryInput,
): Promise<WrittenCustomerEntry | null> {
  const id = newId();
  const amount = signedAmount(input.type, input.money);
  const result = await tx.execute<{
    balance_after: string | number;
    position: string | number;
    credit_limit: string | number | null;
  }>(sql`
    with moved as (
      update customers set balance = balance + ${amount}::bigint, entry_count = entry_count + 1,
        updated_at = now()
      where id = ${input.customerId}::uuid and business_id = ${input.businessId}::uuid
      returning id, business_id, balance, entry_count, credit_limit
    ),
    entry as (
      insert into customer_ledger_entries (id, business_id, customer_id, position, type, amount,
        balance_after, sale_id, return_id, payment_id, created_by)
      select ${id}::uuid, moved.business_id, moved.id, moved.entry_count, ${input.type},
        ${amount}::bigint, moved.balance, ${input.saleId ?? null}::uuid,
        ${input.returnId ?? null}::uuid, ${input.paymentId ?? null}::uuid,
        ${input.createdBy}::uuid
      from moved
      returning 1
    )
    select moved.balance as balance_after, moved.entry_count as position, moved.credit_limit
    from moved, entry`);
  const row = result.rows[0];
  if (!row) return null;
  const written: WrittenCustomerEntry = {
    id,
    customerId: input.customerId,
    type: input.type,
    amount,
    balanceAfter: Number(row.balance_after),
    position: Number(row.position),
    creditLimit: row.credit_limit === null ? null : Number(row.credit_limit),
  };
  if (input.type === 'sale' && exceedsCreditLimit(written.balanceAfter, written.creditLimit)) {
    await writeOutbox(tx, {
      kind: 'event',
      type: 'customer.credit_limit_exceeded',
      businessId: input.businessId,
      payload: creditLimitPayload(input.customerId, input.saleId ?? null, input.money, written),
    });
  }
  return written;
}

/** `customer.credit_limit_exceeded`: who, which sale, and by how much the account is over. */
export const creditLimitPayload = (
  customerId: string,
  saleId: string | null,
  credit: number,
  entry: { balanceAfter: number; creditLimit: number | null },
) => ({
  customerId,
  saleId,
  amount: credit,
  balance: entry.balanceAfter,
  creditLimit: entry.creditLimit,
});

/**
 * A voided sale gives back what it put on the account: one `void` entry per customer for
 * the net of the sale's entries (credit refunds already given back are not given twice).
 */
export async function reverseSaleCredit(
  tx: DbOrTx,
  input: { businessId: string; saleId: string; createdBy: string },
): Promise<void> {
  const owed = await tx.execute<{ customer_id: string; net: string | number }>(sql`
    select customer_id, sum(amount) as net from customer_ledger_entries
    where business_id = ${input.businessId}::uuid and sale_id = ${input.saleId}::uuid
    group by customer_id order by customer_id`);
  for (const row of owed.rows) {
    const net = Number(row.net);
    if (net <= 0) continue;
    await writeCustomerEntry(tx, {
      businessId: input.businessId,
      customerId: row.customer_id,
      type: 'void',
      money: net,
      saleId: input.saleId,
      createdBy: input.createdBy,
    });
  }
}
