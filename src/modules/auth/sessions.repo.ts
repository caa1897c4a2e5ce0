import { and, eq, isNull, ne } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { authSessions, refreshTokens, users } from '../../db/schema/index.js';

export type SessionRow = typeof authSessions.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

// Sessions and refresh tokens are found by their own unguessable ids or token hashes and
// belong to a user; the business they carry is copied from that user when created.

export async function insertSession(
  tx: DbOrTx,
  values: typeof authSessions.$inferInsert,
): Promise<SessionRow> {
  const [row] = await tx.insert(authSessions).values(values).returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function insertRefreshToken(
  tx: DbOrTx,
  values: typeof refreshTokens.$inferInsert,
): Promise<void> {
  await tx.insert(refreshTokens).values(values);
}

/**
 * The token with its session and user, row-locked: concurrent refreshes with one token
 * queue here, so each sees the previous one's effect (spent, or family revoked).
 */
export async function lockRefreshToken(tx: DbOrTx, tokenHash: string) {
  const [row] = await tx
    .select({
      token: refreshTokens,
      sessionRevokedAt: authSessions.revokedAt,
      sessionExpiresAt: authSessions.expiresAt,
      userStatus: users.status,
    })
    .from(refreshTokens)
    .innerJoin(authSessions, eq(authSessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, refreshTokens.userId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .for('update', { of: refreshTokens });
  return row;
}

export async function findRefreshToken(
  db: DbOrTx,
  tokenHash: string,
): Promise<RefreshTokenRow | undefined> {
  const [row] = await db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash));
  return row;
}

export async function markRefreshTokenRotated(
  tx: DbOrTx,
  id: string,
  update: { usedAt: Date; replacedById: string },
): Promise<void> {
  await tx.update(refreshTokens).set(update).where(eq(refreshTokens.id, id));
}

export async function extendSession(tx: DbOrTx, sessionId: string, expiresAt: Date) {
  await tx.update(authSessions).set({ expiresAt }).where(eq(authSessions.id, sessionId));
}

export async function revokeSession(
  tx: DbOrTx,
  sessionId: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .update(authSessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(authSessions.id, sessionId), isNull(authSessions.revokedAt)))
    .returning({ id: authSessions.id });
  return rows.length > 0;
}

/** Revokes every live session of a user, optionally keeping one (the caller's own). */
export async function revokeSessionsOfUser(
  tx: DbOrTx,
  userId: string,
  reason: string,
  now: Date,
  exceptSessionId?: string,
): Promise<number> {
  const rows = await tx
    .update(authSessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(
      and(
        eq(authSessions.userId, userId),
        isNull(authSessions.revokedAt),
        exceptSessionId ? ne(authSessions.id, exceptSessionId) : undefined,
      ),
    )
    .returning({ id: authSessions.id });
  return rows.length;
}
