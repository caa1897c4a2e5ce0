import { and, desc, eq, gt, isNotNull, isNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { invites } from '../../db/schema/index.js';
import { inScope, type TenantScope } from '../../db/tenant-scope.js';
import type { InviteStatus } from './invites.schemas.js';

export type InviteRow = typeof invites.$inferSelect;

export async function insertInvite(
  tx: DbOrTx,
  scope: TenantScope,
  values: Omit<typeof invites.$inferInsert, 'businessId'>,
): Promise<InviteRow> {
  const [row] = await tx
    .insert(invites)
    .values({ ...values, businessId: scope.businessId })
    .returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function findInvite(
  db: DbOrTx,
  scope: TenantScope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<InviteRow | undefined> {
  const query = db
    .select()
    .from(invites)
    .where(inScope(invites.businessId, scope, eq(invites.id, id)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

/**
 * The invite a link names, locked. The link's token is the credential (no caller, no
 * business yet): the business scope comes from this row.
 */
export async function lockInviteByTokenHash(
  tx: DbOrTx,
  tokenHash: string,
): Promise<InviteRow | undefined> {
  const [row] = await tx
    .select()
    .from(invites)
    .where(eq(invites.tokenHash, tokenHash))
    .for('update');
  return row;
}

function statusCondition(status: InviteStatus, now: Date): SQL | undefined {
  switch (status) {
    case 'accepted':
      return isNotNull(invites.acceptedAt);
    case 'revoked':
      return and(isNull(invites.acceptedAt), isNotNull(invites.revokedAt));
    case 'expired':
      return and(
        isNull(invites.acceptedAt),
        isNull(invites.revokedAt),
        lte(invites.expiresAt, now),
      );
    case 'pending':
      return and(isNull(invites.acceptedAt), isNull(invites.revokedAt), gt(invites.expiresAt, now));
  }
}

export function listInvites(
  db: DbOrTx,
  scope: TenantScope,
  filter: { status?: InviteStatus; beforeId?: string; limit: number; now: Date },
): Promise<InviteRow[]> {
  return db
    .select()
    .from(invites)
    .where(
      inScope(
        invites.businessId,
        scope,
        filter.status ? statusCondition(filter.status, filter.now) : undefined,
        filter.beforeId ? lt(invites.id, filter.beforeId) : undefined,
      ),
    )
    .orderBy(desc(invites.id))
    .limit(filter.limit);
}

/** Revokes the business's pending invites for an email (a new invite replaces them). */
export async function revokePendingInvitesFor(
  tx: DbOrTx,
  scope: TenantScope,
  email: string,
  now: Date,
): Promise<void> {
  await tx
    .update(invites)
    .set({ revokedAt: now })
    .where(
      inScope(
        invites.businessId,
        scope,
        sql`lower(${invites.email}) = ${email.toLowerCase()}`,
        isNull(invites.acceptedAt),
        isNull(invites.revokedAt),
      ),
    );
}

export async function markInvite(
  tx: DbOrTx,
  scope: TenantScope,
  id: string,
  patch: Partial<Pick<InviteRow, 'acceptedAt' | 'acceptedUserId' | 'revokedAt'>>,
): Promise<InviteRow | undefined> {
  const [row] = await tx
    .update(invites)
    .set(patch)
    .where(inScope(invites.businessId, scope, eq(invites.id, id)))
    .returning();
  return row;
}
