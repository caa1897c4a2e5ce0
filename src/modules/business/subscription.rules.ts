import type { SubscriptionPlan } from '../../db/schema/index.js';

export type SubscriptionStatus = 'trialing' | 'active' | 'past_due' | 'expired';

export const TRIAL_DAYS = 14;
export const PAST_DUE_GRACE_DAYS = 3;
export const PLAN_DAYS: Record<SubscriptionPlan, number> = { monthly: 30, annual: 365 };
const DAY_MS = 24 * 3600 * 1000;

/**
 * A subscription's status follows from its plan and period end alone, so it never needs a
 * job to be right: past the end a business is past_due for 3 days, then expired.
 */
export function subscriptionStatus(
  plan: SubscriptionPlan | null,
  currentPeriodEnd: Date,
  now: Date,
): SubscriptionStatus {
  if (now.getTime() <= currentPeriodEnd.getTime()) return plan === null ? 'trialing' : 'active';
  if (now.getTime() <= currentPeriodEnd.getTime() + PAST_DUE_GRACE_DAYS * DAY_MS) return 'past_due';
  return 'expired';
}

export function trialEnd(registeredAt: Date): Date {
  return new Date(registeredAt.getTime() + TRIAL_DAYS * DAY_MS);
}

/** A paid period starts at the later of now and the current end, so no paid day is lost. */
export function extendPeriod(currentPeriodEnd: Date, plan: SubscriptionPlan, now: Date): Date {
  const start = Math.max(now.getTime(), currentPeriodEnd.getTime());
  return new Date(start + PLAN_DAYS[plan] * DAY_MS);
}
