import type { AppDeps } from '../../deps.js';
import type { Tx } from '../../db/client.js';
import { writeOutbox, type OutboxMessage } from '../../jobs/outbox.js';
import { activatePaidPeriod } from '../business/subscription-billing.service.js';
import { toPaymentResource } from './payment-resource.js';
import { decideSettlement, type SettlementSource, type SettlingResult } from './payments.rules.js';
import { updatePayment, type PaymentRow } from './payments.repo.js';

export interface Settlement {
  /** What it did (stored as the inbox outcome). */
  outcome: string;
  /**
   * A paid period was added to the business: once the transaction commits the caller
   * announces it (announceAuthChanges, `business`) so cached session checks see it.
   */
  subscriptionRenewed: boolean;
}

/**
 * Applies a final answer to a payment locked by the caller (SELECT … FOR UPDATE), in the
 * caller's transaction: status, subscription period, events and receipt email commit
 * together or not at all.
 */
export async function settlePayment(
  tx: Tx,
  deps: Pick<AppDeps, 'clock' | 'logger'>,
  payment: PaymentRow,
  result: SettlingResult,
  source: SettlementSource,
): Promise<Settlement> {
  const decision = decideSettlement(payment, result, source);
  const now = deps.clock();
  if (decision.action === 'ignore')
    return { outcome: decision.outcome, subscriptionRenewed: false };
  if (decision.action === 'record-receipt') {
    await updatePayment(tx, payment.id, { mpesaReceiptNumber: result.receiptNumber });
    return { outcome: decision.outcome, subscriptionRenewed: false };
  }

  const updated = await updatePayment(tx, payment.id, {
    status: decision.status,
    resultCode: result.resultCode,
    resultDesc: result.resultDesc,
    // A receipt on a payment under review is kept: it is what a person will look up.
    mpesaReceiptNumber: result.receiptNumber ?? payment.mpesaReceiptNumber,
    confirmedBy: source,
    completedAt: now,
  });
  if (decision.status === 'needs_review') {
    deps.logger.warn(
      { paymentId: payment.id, businessId: payment.businessId, outcome: decision.outcome },
      'M-Pesa payment needs review: the money received does not match a payment we can complete',
    );
  }
  const messages = await settlementMessages(tx, updated, decision.activate, now);
  await writeOutbox(tx, messages);
  return {
    outcome: decision.outcome,
    subscriptionRenewed: messages.some((message) => message.type === 'subscription.activated'),
  };
}

/** Marks a payment nobody answered for as expired (the reconciler's last word). */
export async function expirePayment(tx: Tx, deps: Pick<AppDeps, 'clock'>, payment: PaymentRow) {
  const updated = await updatePayment(tx, payment.id, {
    status: 'expired',
    resultDesc: 'M-Pesa gave no answer in time',
    completedAt: deps.clock(),
  });
  await writeOutbox(tx, await settlementMessages(tx, updated, false, deps.clock()));
}

async function settlementMessages(
  tx: Tx,
  payment: PaymentRow,
  activate: boolean,
  now: Date,
): Promise<OutboxMessage[]> {
  const businessId = payment.businessId;
  const resource = toPaymentResource(payment);
  if (payment.status === 'needs_review' || payment.status === 'pending') return [];
  if (payment.status !== 'succeeded') {
    return [{ kind: 'event', type: 'payment.failed', businessId, payload: resource }];
  }
  const messages: OutboxMessage[] = [
    { kind: 'event', type: 'payment.succeeded', businessId, payload: resource },
  ];
  if (activate && payment.plan) {
    const subscription = await activatePaidPeriod(tx, businessId, payment.plan, now);
    const currentPeriodEnd = subscription.currentPeriodEnd.toISOString();
    messages.push({
      kind: 'event',
      type: 'subscription.activated',
      businessId,
      payload: { plan: subscription.plan, status: subscription.status, currentPeriodEnd },
    });
    for (const to of subscription.ownerEmails) {
      messages.push({
        kind: 'email',
        type: 'subscription-receipt',
        businessId,
        payload: {
          to,
          businessName: subscription.businessName,
          plan: subscription.plan,
          amount: payment.amount,
          mpesaReceiptNumber: payment.mpesaReceiptNumber,
          currentPeriodEnd,
        },
      });
    }
  }
  return messages;
}
