import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { users, type Role, type UserStatus } from '../../db/schema/index.js';
import { inScope, type TenantScope } from '../../db/tenant-scope.js';

export type UserRow = typeof users.$inferSelect;

/**
 * Login and "is this email taken" are the only lookups across businesses (an email is one
 * account service-wide); every other function here is scoped to one business.
 */
export async function findUserByEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
  return row;
}

/** By id alone, for rows that name a user without a caller (reset links): ids are unguessable. */
export async function findUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

export async function insertUser(
  tx: DbOrTx,
  scope: TenantScope,
  values: Omit<typeof users.$inferInsert, 'businessId'>,
): Promise<UserRow> {
  const [row] = await tx
    .insert(users)
    .values({ ...values, businessId: scope.businessId })
    .returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function findUser(
  db: DbOrTx,
  scope: TenantScope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<UserRow | undefined> {
  const query = db
    .select()
    .from(users)
    .where(inScope(users.businessId, scope, eq(users.id, id)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export function listUsers(
  db: DbOrTx,
  scope: TenantScope,
  filter: { role?: Role; status?: UserStatus; beforeId?: string; limit: number },
): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(
      inScope(
        users.businessId,
        scope,
        filter.role ? eq(users.role, filter.role) : undefined,
        filter.status ? eq(users.status, filter.status) : undefined,
        filter.beforeId ? lt(users.id, filter.beforeId) : undefined,
      ),
    )
    .orderBy(desc(users.id))
    .limit(filter.limit);
}

/** Locks the business's active owners, so two concurrent demotions cannot both pass the "one owner left" check. */
export async function lockActiveOwners(tx: DbOrTx, scope: TenantScope): Promise<string[]> {
  const rows = await tx
    .select({ id: users.id })
    .from(users)
    .where(inScope(users.businessId, scope, eq(users.role, 'owner'), eq(users.status, 'active')))
    .orderBy(users.id)
    .for('update');
  return rows.map((row) => row.id);
}

export async function updateUser(
  tx: DbOrTx,
  scope: TenantScope,
  id: string,
  patch: Partial<Pick<UserRow, 'name' | 'role' | 'status' | 'passwordHash' | 'locationIds'>>,
  now: Date,
): Promise<UserRow | undefined> {
  const [row] = await tx
    .update(users)
    .set({ ...patch, updatedAt: now })
    .where(and(inScope(users.businessId, scope, eq(users.id, id))))
    .returning();
  return row;
}
