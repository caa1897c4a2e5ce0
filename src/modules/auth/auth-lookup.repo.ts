import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { authSessions, businesses, users } from '../../db/schema/index.js';

function prepareLookup(db: Db) {
  return db
    .select({
      role: users.role,
      locationIds: users.locationIds,
      userStatus: users.status,
      sessionRevokedAt: authSessions.revokedAt,
      sessionExpiresAt: authSessions.expiresAt,
      subscriptionPlan: businesses.subscriptionPlan,
      currentPeriodEnd: businesses.currentPeriodEnd,
      timezone: businesses.timezone,
    })
    .from(users)
    .innerJoin(authSessions, eq(authSessions.userId, users.id))
    .innerJoin(businesses, eq(businesses.id, users.businessId))
    .where(
      and(
        eq(users.id, sql.placeholder('userId')),
        eq(users.businessId, sql.placeholder('businessId')),
        eq(authSessions.id, sql.placeholder('sessionId')),
      ),
    )
    .limit(1)
    .prepare('auth_lookup');
}

const prepared = new WeakMap<Db, ReturnType<typeof prepareLookup>>();

// A type, not an interface: the prepared statement takes it as its placeholder record.
export type AuthStateIds = {
  userId: string;
  businessId: string;
  sessionId: string;
};

export type AuthState = Awaited<ReturnType<ReturnType<typeof prepareLookup>['execute']>>[number];

/**
 * The caller's current user, session and business state (one prepared statement), so a
 * disabled user, a revoked session or a changed role takes effect on the next request.
 * authenticate() reads it through the per-process cache (auth-cache.ts) when one is on.
 */
export async function findAuthState(db: Db, ids: AuthStateIds): Promise<AuthState | undefined> {
  let statement = prepared.get(db);
  if (!statement) {
    statement = prepareLookup(db);
    prepared.set(db, statement);
  }
  const [row] = await statement.execute(ids);
  return row;
}
