import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import { locations } from '../../db/schema/index.js';

export type LocationRow = typeof locations.$inferSelect;

export async function findLocation(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<LocationRow | undefined> {
  const [row] = await db
    .select()
    .from(locations)
    .where(and(eq(locations.businessId, businessId), eq(locations.id, id)))
    .limit(1);
  return row;
}

/**
 * Locks a location row inside a transaction: `share` by what needs it to stay open while
 * it commits (opening a shift), `update` by the archiving that must see those commits.
 */
export async function lockLocation(
  tx: Tx,
  businessId: string,
  id: string,
  strength: 'share' | 'update',
): Promise<LocationRow | undefined> {
  const [row] = await tx
    .select()
    .from(locations)
    .where(and(eq(locations.businessId, businessId), eq(locations.id, id)))
    .for(strength)
    .limit(1);
  return row;
}

export async function findDefaultLocation(db: DbOrTx, businessId: string): Promise<LocationRow> {
  const [row] = await db
    .select()
    .from(locations)
    .where(and(eq(locations.businessId, businessId), eq(locations.isDefault, true)))
    .limit(1);
  // The businesses_main_location trigger gives every business one (drizzle/0004).
  if (!row) throw new Error(`Business ${businessId} has no default location`);
  return row;
}

/** The business's locations among `ids` (unknown and other businesses' ids are left out). */
export async function findLocations(
  db: DbOrTx,
  businessId: string,
  ids: readonly string[],
): Promise<LocationRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(locations)
    .where(and(eq(locations.businessId, businessId), inArray(locations.id, [...ids])));
}

export async function listLocations(
  db: DbOrTx,
  businessId: string,
  page: { afterId?: string; limit: number; includeArchived: boolean },
): Promise<LocationRow[]> {
  return db
    .select()
    .from(locations)
    .where(
      and(
        eq(locations.businessId, businessId),
        page.includeArchived ? undefined : eq(locations.archived, false),
        page.afterId ? sql`${locations.id} > ${page.afterId}::uuid` : undefined,
      ),
    )
    .orderBy(asc(locations.id))
    .limit(page.limit + 1);
}

export async function insertLocation(
  db: DbOrTx,
  values: typeof locations.$inferInsert,
): Promise<LocationRow> {
  const [row] = await db.insert(locations).values(values).returning();
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function updateLocation(
  db: DbOrTx,
  businessId: string,
  id: string,
  changes: Partial<Pick<LocationRow, 'name' | 'address' | 'phone' | 'etimsBranchId' | 'archived'>>,
): Promise<LocationRow | undefined> {
  const [row] = await db
    .update(locations)
    .set({ ...changes, updatedAt: sql`date_trunc('milliseconds', now())` })
    .where(and(eq(locations.businessId, businessId), eq(locations.id, id)))
    .returning();
  return row;
}
