import type { AppDeps } from '../../deps.js';
import { writeOutbox, type OutboxMessage } from '../../jobs/outbox.js';
import { defineJob, defineQueue } from '../../jobs/types.js';
import { z } from '../../lib/zod.js';
import { parseC2bPayload } from '../../mpesa/c2b-wire.js';
import {
  claimC2bPayment,
  findC2bPayment,
  findPaymentsNaming,
  findTillSettings,
  finishC2bInbox,
  flagCustomerPayment,
  flagSalePayment,
  insertC2bPayment,
  listUnprocessedC2bInbox,
  lockC2bInbox,
  lockReceipt,
} from './till.repo.js';
import { acceptsShortcode, decideClaim, type ConflictReason } from './till.rules.js';

/**
 * The `payment.conflict` event: a sale payment (`saleId`) or a payment on account
 * (`customerPaymentId`, `saleId` null) names a receipt it cannot simply take.
 */
export function conflictEvent(
  businessId: string,
  input: {
    transId: string;
    saleId: string | null;
    customerPaymentId?: string | null;
    amount: number;
    receivedAmount: number;
    reason: ConflictReason;
    claimedBySaleId: string | null;
    claimedByCustomerPaymentId?: string | null;
  },
): OutboxMessage {
  return { kind: 'event', type: 'payment.conflict', businessId, payload: { ...input } };
}

/**
 * Applies one stored C2B confirmation, idempotently: the inbox row is processed once, the
 * receipt is kept once per (business, TransID) (a duplicate changes nothing), and sales that
 * named the TransID before it arrived are settled in the order they were recorded: the first
 * claims it, later ones are flagged (payment.conflict), as is an amount that differs.
 */
export async function applyC2bConfirmation(deps: AppDeps, inboxId: string): Promise<string> {
  return deps.db.transaction(async (tx) => {
    const inbox = await lockC2bInbox(tx, inboxId);
    if (!inbox) return 'missing';
    if (inbox.processedAt) return inbox.outcome ?? 'applied';
    const now = deps.clock();
    const finish = async (outcome: string) => {
      await finishC2bInbox(tx, inbox.id, outcome, now);
      return outcome;
    };
    const parsed = parseC2bPayload(inbox.rawPayload);
    if (!parsed.ok) {
      deps.logger.warn({ inboxId, problem: parsed.problem }, 'C2B confirmation unreadable; kept');
      return finish('malformed');
    }
    const payment = parsed.payment;
    const settings = await findTillSettings(tx, inbox.businessId);
    if (!settings || !acceptsShortcode(settings, payment.shortcode)) {
      deps.logger.warn({ inboxId }, 'C2B confirmation for another shortcode; kept, not applied');
      return finish('wrong_shortcode');
    }
    const { businessId } = inbox;
    await lockReceipt(tx, businessId, payment.transId);
    const inserted = await insertC2bPayment(tx, {
      id: inbox.id,
      businessId,
      transId: payment.transId,
      amount: payment.amountCents,
      msisdn: payment.msisdn,
      firstName: payment.firstName,
      billRefNumber: payment.billRefNumber,
      transTime: payment.transTime,
      shortcode: payment.shortcode,
      transactionType: payment.transactionType,
      inboxId: inbox.id,
      receivedAt: inbox.receivedAt,
    });
    if (!inserted) return finish('duplicate');

    const receipt = await findC2bPayment(tx, businessId, payment.transId);
    if (!receipt) throw new Error('the receipt just inserted is missing');
    let holder: {
      paymentId: string;
      saleId: string | null;
      customerPaymentId: string | null;
    } | null = null;
    const events: OutboxMessage[] = [];
    for (const naming of await findPaymentsNaming(tx, businessId, payment.transId)) {
      const decision = decideClaim(naming, {
        amount: receipt.amount,
        salePaymentId: holder?.paymentId ?? null,
      });
      if (decision.action === 'await' || decision.action === 'none') continue;
      if (decision.action === 'claim') {
        holder = {
          paymentId: naming.id,
          saleId: naming.saleId,
          customerPaymentId: naming.customerPaymentId,
        };
        await claimC2bPayment(
          tx,
          receipt.id,
          naming.saleId !== null
            ? { saleId: naming.saleId, salePaymentId: naming.id, claimedAt: now }
            : { customerPaymentId: naming.id, claimedAt: now },
        );
      }
      if (decision.action === 'flag' || decision.needsReview) {
        if (!naming.needsReview) {
          if (naming.saleId !== null) await flagSalePayment(tx, naming.id);
          else await flagCustomerPayment(tx, naming.id);
        }
        events.push(
          conflictEvent(businessId, {
            transId: payment.transId,
            saleId: naming.saleId,
            ...(naming.customerPaymentId !== null
              ? { customerPaymentId: naming.customerPaymentId }
              : {}),
            amount: naming.amount,
            receivedAmount: receipt.amount,
            reason: decision.reason,
            claimedBySaleId: holder?.saleId ?? null,
            ...(holder?.customerPaymentId
              ? { claimedByCustomerPaymentId: holder.customerPaymentId }
              : {}),
          }),
        );
      }
    }
    await writeOutbox(tx, events);
    return finish(holder ? 'claimed' : 'applied');
  });
}

/** Confirmations stored but never applied (their job was lost): applied here. */
export async function applyStaleC2b(
  deps: AppDeps,
  options: { businessId?: string; limit?: number } = {},
): Promise<number> {
  const stale = await listUnprocessedC2bInbox(
    deps.db,
    new Date(deps.clock().getTime() - 30_000),
    options.limit ?? 100,
    options.businessId,
  );
  for (const inboxId of stale) await applyC2bConfirmation(deps, inboxId);
  return stale.length;
}

/** Applies a stored C2B confirmation; enqueued through the outbox by the callback route. */
export const applyC2bJob = defineJob({
  queue: 'till',
  name: 'apply-c2b',
  payload: z.object({ inboxId: z.uuid() }),
  handle: (payload, deps) => applyC2bConfirmation(deps, payload.inboxId),
});

const sweepJob = defineJob({
  queue: 'till',
  name: 'apply-stale-c2b',
  payload: z.unknown(),
  handle: (_payload, deps) => applyStaleC2b(deps),
});

/** Queue `till`: `apply-c2b` (from the outbox) and the repeatable safety net. */
export const tillQueue = defineQueue(
  {
    queue: 'till',
    concurrency: 4,
    defaultJobOptions: { attempts: 8, backoff: { type: 'exponential', delay: 1_000 } },
    schedules: [{ job: sweepJob, every: 60_000 }],
  },
  [applyC2bJob, sweepJob],
);
