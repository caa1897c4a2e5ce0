import type { AppDeps } from '../../deps.js';
import { announceAuthChanges } from '../auth/auth-changes.js';
import { defineJob, defineQueue } from '../../jobs/types.js';
import { z } from '../../lib/zod.js';
import { paymentProviderOf } from '../../mpesa/mpesa-provider.js';
import type { PaymentProvider, QueryResult } from '../../mpesa/provider.js';
import { businessProviderOf } from '../till/till-daraja.js';
import { findTillSettings } from '../till/till.repo.js';
import { expirePayment, settlePayment } from './payment-settlement.js';
import { isQueryDue } from './payments.rules.js';
import {
  findPaymentIdBy,
  listPendingOlderThan,
  listUnprocessedInbox,
  lockInbox,
  lockPayment,
  markInboxProcessed,
  updatePayment,
  type PaymentRow,
} from './payments.repo.js';

export interface ApplyResult {
  outcome: string;
  /** True when an earlier run already applied this callback. */
  alreadyProcessed: boolean;
}

/**
 * Applies one stored callback: idempotent (an inbox row is processed once; the payment is
 * locked and only moves from pending), keyed on the payment's CheckoutRequestID and the
 * receipt number. A callback naming another CheckoutRequestID is kept and logged.
 */
export async function applyCallback(deps: AppDeps, inboxId: string): Promise<ApplyResult> {
  const provider = paymentProviderOf(deps);
  let renewed: string | undefined;
  const applied = await deps.db.transaction(async (tx): Promise<ApplyResult> => {
    const inbox = await lockInbox(tx, inboxId);
    if (!inbox) return { outcome: 'missing', alreadyProcessed: false };
    if (inbox.processedAt) return { outcome: inbox.outcome ?? 'applied', alreadyProcessed: true };
    const finish = async (outcome: string, checkoutRequestId: string | null) => {
      await markInboxProcessed(tx, inbox.id, {
        outcome,
        checkoutRequestId,
        processedAt: deps.clock(),
      });
      return { outcome, alreadyProcessed: false };
    };

    let callback;
    try {
      callback = provider.parseCallback(inbox.rawPayload);
    } catch {
      deps.logger.warn({ inboxId }, 'M-Pesa callback is not an STK callback; kept in the inbox');
      return finish('malformed', null);
    }
    const { checkoutRequestId, receiptNumber } = callback;
    const payment = await lockPayment(tx, inbox.paymentId);
    if (!payment) return finish('unknown_checkout', checkoutRequestId);

    if (payment.checkoutRequestId !== checkoutRequestId) {
      // Daraja's answer to initiate() was lost, but the callback came to this payment's
      // secret URL: adopt its CheckoutRequestID unless another payment already owns it.
      const owner = await findPaymentIdBy(tx, 'checkoutRequestId', checkoutRequestId);
      if (payment.checkoutRequestId !== null || owner !== undefined) {
        deps.logger.warn(
          { inboxId, paymentId: payment.id, checkoutRequestId },
          'M-Pesa callback names an unknown CheckoutRequestID; kept in the inbox, not applied',
        );
        return finish('unknown_checkout', checkoutRequestId);
      }
      await updatePayment(tx, payment.id, {
        checkoutRequestId,
        merchantRequestId: callback.merchantRequestId,
      });
      payment.checkoutRequestId = checkoutRequestId;
    }
    if (receiptNumber !== null) {
      const holder = await findPaymentIdBy(tx, 'mpesaReceiptNumber', receiptNumber);
      if (holder !== undefined && holder !== payment.id) {
        deps.logger.warn(
          { inboxId, paymentId: payment.id, holder },
          'M-Pesa receipt number already belongs to another payment; kept in the inbox, not applied',
        );
        return finish('receipt_conflict', checkoutRequestId);
      }
    }
    const settled = await settlePayment(tx, deps, payment, callback, 'callback');
    if (settled.subscriptionRenewed) renewed = payment.businessId;
    return finish(settled.outcome, checkoutRequestId);
  });
  if (renewed) await announceAuthChanges(deps, [{ kind: 'business', id: renewed }]);
  return applied;
}

export interface ReconcileSummary {
  queried: number;
  settled: number;
  expired: number;
  stillPending: number;
  callbacksApplied: number;
}

export interface ReconcileOptions {
  /** Only this shop's payments (operator tooling, and tests sharing one database). */
  businessId?: string;
  limit?: number;
}

/**
 * The reconciler: pending payments older than MPESA_RECONCILE_AFTER_SECONDS are queried
 * (with backoff while Daraja says "being processed") and settled from the answer; those
 * unanswered after MPESA_EXPIRE_AFTER_SECONDS expire. Daraja is called outside any
 * transaction; the settlement re-locks the payment and only acts if it is still pending.
 */
export async function reconcilePending(
  deps: AppDeps,
  options: ReconcileOptions = {},
): Promise<ReconcileSummary> {
  const { reconcileAfterSeconds, expireAfterSeconds } = deps.config.mpesa;
  const summary: ReconcileSummary = {
    queried: 0,
    settled: 0,
    expired: 0,
    stillPending: 0,
    callbacksApplied: 0,
  };
  const now = deps.clock();

  // Safety net: a stored callback whose job never ran (lost from Redis) is applied here.
  const stale = await listUnprocessedInbox(
    deps.db,
    new Date(now.getTime() - 30_000),
    options.limit ?? 100,
    options.businessId,
  );
  for (const inboxId of stale) {
    await applyCallback(deps, inboxId);
    summary.callbacksApplied += 1;
  }

  const due = await listPendingOlderThan(
    deps.db,
    new Date(now.getTime() - reconcileAfterSeconds * 1000),
    options.limit ?? 100,
    options.businessId,
  );
  for (const payment of due) {
    const provider = await queryProviderFor(deps, payment);
    const expiring = now.getTime() - payment.createdAt.getTime() >= expireAfterSeconds * 1000;
    if (!expiring && !isQueryDue(payment.lastQueriedAt, payment.queryAttempts, now)) continue;

    let answer: QueryResult | { state: 'unavailable' } = { state: 'unavailable' };
    if (payment.checkoutRequestId !== null && provider !== undefined) {
      summary.queried += 1;
      try {
        answer = await provider.query(payment.checkoutRequestId);
      } catch (error) {
        deps.logger.warn(
          { paymentId: payment.id, err: { message: (error as Error).message } },
          'M-Pesa status query failed; will retry',
        );
      }
    }
    const result = await deps.db.transaction(async (tx) => {
      const locked = await lockPayment(tx, payment.id);
      if (locked?.status !== 'pending') return 'gone';
      if (answer.state === 'final') {
        const settled = await settlePayment(
          tx,
          deps,
          locked,
          { ...answer, amount: null, phoneNumber: null, receiptNumber: null },
          'query',
        );
        return settled.subscriptionRenewed ? 'renewed' : 'settled';
      }
      if (expiring) {
        await expirePayment(tx, deps, locked);
        return 'expired';
      }
      await updatePayment(tx, locked.id, {
        lastQueriedAt: now,
        queryAttempts: locked.queryAttempts + 1,
      });
      return 'stillPending';
    });
    if (result === 'renewed') {
      await announceAuthChanges(deps, [{ kind: 'business', id: payment.businessId }]);
      summary.settled += 1;
    } else if (result !== 'gone') {
      summary[result] += 1;
    }
  }
  return summary;
}

/**
 * Who can answer the status query of a payment: the Daraja app that asked (the business's
 * own for sales at the till; undefined when its settings are gone: the payment then waits
 * for its callback or expires).
 */
async function queryProviderFor(
  deps: AppDeps,
  payment: PaymentRow,
): Promise<PaymentProvider | undefined> {
  if (!payment.businessCredentials) return paymentProviderOf(deps);
  const settings = await findTillSettings(deps.db, payment.businessId);
  return settings ? businessProviderOf(deps, settings) : undefined;
}

/** Applies a stored M-Pesa callback; enqueued through the outbox by the callback route. */
export const applyCallbackJob = defineJob({
  queue: 'mpesa',
  name: 'apply-callback',
  payload: z.object({ inboxId: z.uuid() }),
  handle: (payload, deps) => applyCallback(deps, payload.inboxId),
});

const reconcileJob = defineJob({
  queue: 'mpesa',
  name: 'reconcile',
  payload: z.unknown(),
  handle: (_payload, deps) => reconcilePending(deps),
});

/** Queue `mpesa`: `apply-callback` (from the outbox) and the repeatable `reconcile`. */
export const mpesaQueue = defineQueue(
  {
    queue: 'mpesa',
    concurrency: 4,
    defaultJobOptions: { attempts: 8, backoff: { type: 'exponential', delay: 1_000 } },
    schedules: [{ job: reconcileJob, every: 15_000 }],
  },
  [applyCallbackJob, reconcileJob],
);
