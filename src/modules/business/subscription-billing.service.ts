import { and, eq } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { businesses, users, type SubscriptionPlan } from '../../db/schema/index.js';
import { extendPeriod, subscriptionStatus, type SubscriptionStatus } from './subscription.rules.js';

export interface ActivatedSubscription {
  businessName: string;
  plan: SubscriptionPlan;
  status: SubscriptionStatus;
  currentPeriodEnd: Date;
  ownerEmails: string[];
}

/**
 * Adds one paid period to the business (from the later of now and the current end), in the
 * caller's transaction: the payment that pays for it is marked succeeded in the same commit,
 * which is what makes the extension happen exactly once.
 */
export async function activatePaidPeriod(
  tx: Tx,
  businessId: string,
  plan: SubscriptionPlan,
  now: Date,
): Promise<ActivatedSubscription> {
  const [business] = await tx
    .select({ name: businesses.name, currentPeriodEnd: businesses.currentPeriodEnd })
    .from(businesses)
    .where(eq(businesses.id, businessId))
    .for('update');
  if (!business) throw new Error(`business ${businessId} not found`);
  const currentPeriodEnd = extendPeriod(business.currentPeriodEnd, plan, now);
  await tx
    .update(businesses)
    .set({ subscriptionPlan: plan, currentPeriodEnd, updatedAt: now })
    .where(eq(businesses.id, businessId));
  const owners = await tx
    .select({ email: users.email })
    .from(users)
    .where(
      and(eq(users.businessId, businessId), eq(users.role, 'owner'), eq(users.status, 'active')),
    );
  return {
    businessName: business.name,
    plan,
    status: subscriptionStatus(plan, currentPeriodEnd, now),
    currentPeriodEnd,
    ownerEmails: owners.map((owner) => owner.email),
  };
}
