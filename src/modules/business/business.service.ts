import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import type { DbOrTx } from '../../db/client.js';
import type { TenantScope } from '../../db/tenant-scope.js';
import { newId } from '../../lib/ids.js';
import { recordAudit, type RequestMeta } from '../audit/audit.service.js';
import { announceAuthChanges } from '../auth/auth-changes.js';
import {
  findBusiness,
  insertBusiness,
  updateBusiness as updateBusinessRow,
  type BusinessRow,
} from './business.repo.js';
import type { Business, Subscription, UpdateBusinessBody } from './business.schemas.js';
import { subscriptionStatus, trialEnd } from './subscription.rules.js';

export type { BusinessRow };

export function presentBusiness(row: BusinessRow): Business {
  return {
    id: row.id,
    name: row.name,
    phone: row.phone,
    currency: 'KES',
    timezone: row.timezone,
    lowStockEmails: row.lowStockEmails,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Creates a new business on a 14-day trial (inside the registering transaction). */
export function createTrialBusiness(
  tx: DbOrTx,
  input: { name: string; phone?: string | undefined },
  now: Date,
): Promise<BusinessRow> {
  return insertBusiness(tx, {
    id: newId(),
    name: input.name,
    phone: input.phone ?? null,
    currentPeriodEnd: trialEnd(now),
    createdAt: now,
    updatedAt: now,
  });
}

/** The caller's business row. */
export function getBusinessRow(db: DbOrTx, scope: TenantScope): Promise<BusinessRow> {
  return findBusiness(db, scope);
}

/** Changes the business settings (owner) and records who changed what. */
export async function updateBusiness(
  deps: AppDeps,
  caller: Caller,
  meta: RequestMeta,
  patch: UpdateBusinessBody,
): Promise<Business> {
  const now = deps.clock();
  const { business, timezoneChanged } = await deps.db.transaction(async (tx) => {
    const before = await findBusiness(tx, caller);
    const row = await updateBusinessRow(tx, caller, patch, now);
    const changed = Object.fromEntries(
      Object.keys(patch)
        .filter((key) => before[key as keyof typeof patch] !== row[key as keyof typeof patch])
        .map((key) => [
          key,
          { from: before[key as keyof typeof patch], to: row[key as keyof typeof patch] },
        ]),
    );
    await recordAudit(
      tx,
      caller,
      {
        actorUserId: caller.userId,
        action: 'business.updated',
        targetType: 'business',
        targetId: caller.businessId,
        details: changed,
        meta,
      },
      now,
    );
    return { business: presentBusiness(row), timezoneChanged: before.timezone !== row.timezone };
  });
  // Every session of the business carries its timezone (authenticate.ts).
  if (timezoneChanged) {
    await announceAuthChanges(deps, [{ kind: 'business', id: caller.businessId }]);
  }
  return business;
}

/** The subscription as API.md describes it; its status is derived, never stored. */
export async function getSubscription(deps: AppDeps, caller: Caller): Promise<Subscription> {
  const row = await findBusiness(deps.db, caller);
  return {
    plan: row.subscriptionPlan,
    status: subscriptionStatus(row.subscriptionPlan, row.currentPeriodEnd, deps.clock()),
    currentPeriodEnd: row.currentPeriodEnd.toISOString(),
  };
}
