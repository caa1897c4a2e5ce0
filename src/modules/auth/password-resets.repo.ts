import { and, count, eq, gt, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { passwordResets } from '../../db/schema/index.js';

export type PasswordResetRow = typeof passwordResets.$inferSelect;

export async function insertPasswordReset(
  tx: DbOrTx,
  values: typeof passwordResets.$inferInsert,
): Promise<void> {
  await tx.insert(passwordResets).values(values);
}

/**
 * Spends an unexpired, unused reset in one statement: of two concurrent uses of one link,
 * exactly one gets the row.
 */
export async function consumePasswordReset(
  tx: DbOrTx,
  tokenHash: string,
  now: Date,
): Promise<PasswordResetRow | undefined> {
  const [row] = await tx
    .update(passwordResets)
    .set({ usedAt: now })
    .where(
      and(
        eq(passwordResets.tokenHash, tokenHash),
        isNull(passwordResets.usedAt),
        gt(passwordResets.expiresAt, now),
      ),
    )
    .returning();
  return row;
}

export async function spendOpenPasswordResets(
  tx: DbOrTx,
  userId: string,
  now: Date,
): Promise<void> {
  await tx
    .update(passwordResets)
    .set({ usedAt: now })
    .where(and(eq(passwordResets.userId, userId), isNull(passwordResets.usedAt)));
}

/** Reset links issued to a user since a moment (the per-account mail quota). */
export async function countResetsSince(db: DbOrTx, userId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ total: count() })
    .from(passwordResets)
    .where(and(eq(passwordResets.userId, userId), gt(passwordResets.createdAt, since)));
  return row?.total ?? 0;
}
