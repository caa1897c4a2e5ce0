import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { businesses } from '../../db/schema/index.js';
import type { TenantScope } from '../../db/tenant-scope.js';

export type BusinessRow = typeof businesses.$inferSelect;

// The business table is the tenant itself: its one row per scope is found by the scope's id.

export async function insertBusiness(
  tx: DbOrTx,
  values: typeof businesses.$inferInsert,
): Promise<BusinessRow> {
  const [row] = await tx.insert(businesses).values(values).returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function findBusiness(db: DbOrTx, scope: TenantScope): Promise<BusinessRow> {
  const [row] = await db.select().from(businesses).where(eq(businesses.id, scope.businessId));
  // A scope only exists for a business that exists (businesses are never deleted).
  if (!row) throw new Error(`business ${scope.businessId} of a valid scope is missing`);
  return row;
}

export async function updateBusiness(
  tx: DbOrTx,
  scope: TenantScope,
  patch: Partial<Pick<BusinessRow, 'name' | 'phone' | 'timezone' | 'lowStockEmails'>>,
  now: Date,
): Promise<BusinessRow> {
  const [row] = await tx
    .update(businesses)
    .set({ ...patch, updatedAt: now })
    .where(eq(businesses.id, scope.businessId))
    .returning();
  if (!row) throw new Error(`business ${scope.businessId} of a valid scope is missing`);
  return row;
}
