import { and, asc, desc, eq, inArray, lt, gt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  businesses,
  users,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  type DeliveryStatus,
} from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;

export async function insertEndpoint(
  db: DbOrTx,
  values: typeof webhookEndpoints.$inferInsert,
): Promise<EndpointRow> {
  const [row] = await db.insert(webhookEndpoints).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function findEndpoint(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<EndpointRow | undefined> {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.businessId, businessId), eq(webhookEndpoints.id, id)));
  return row;
}

export async function listEndpoints(
  db: DbOrTx,
  businessId: string,
  page: { limit: number; after?: string },
): Promise<EndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.businessId, businessId),
        page.after === undefined ? undefined : gt(webhookEndpoints.id, page.after),
      ),
    )
    .orderBy(asc(webhookEndpoints.id))
    .limit(page.limit + 1);
}

export async function updateEndpoint(
  db: DbOrTx,
  businessId: string,
  id: string,
  values: Partial<typeof webhookEndpoints.$inferInsert>,
): Promise<EndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...values, updatedAt: sql`now()` })
    .where(and(eq(webhookEndpoints.businessId, businessId), eq(webhookEndpoints.id, id)))
    .returning();
  return row;
}

export async function deleteEndpoint(db: DbOrTx, businessId: string, id: string): Promise<boolean> {
  const deleted = await db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.businessId, businessId), eq(webhookEndpoints.id, id)))
    .returning({ id: webhookEndpoints.id });
  return deleted.length > 0;
}

/** Enabled endpoints of a business subscribed to `eventType` (or to every event). */
export async function findSubscribedEndpoints(
  db: DbOrTx,
  businessId: string,
  eventType: string,
): Promise<{ id: string }[]> {
  return db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.businessId, businessId),
        eq(webhookEndpoints.enabled, true),
        sql`(${webhookEndpoints.events} @> ${JSON.stringify([eventType])}::jsonb or ${webhookEndpoints.events} @> '["*"]'::jsonb)`,
      ),
    );
}

/** One delivery per endpoint; an existing (endpoint, message) pair is kept, its id returned. */
export async function insertDeliveries(
  db: DbOrTx,
  values: Omit<typeof webhookDeliveries.$inferInsert, 'id'>[],
): Promise<string[]> {
  const messageId = values[0]?.messageId;
  if (messageId === undefined) return [];
  await db
    .insert(webhookDeliveries)
    .values(values.map((value) => ({ ...value, id: newId() })))
    .onConflictDoNothing({ target: [webhookDeliveries.endpointId, webhookDeliveries.messageId] });
  const rows = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.messageId, messageId),
        inArray(
          webhookDeliveries.endpointId,
          values.map((value) => value.endpointId),
        ),
      ),
    );
  return rows.map((row) => row.id);
}

export async function findDelivery(
  db: DbOrTx,
  businessId: string,
  endpointId: string,
  id: string,
): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.businessId, businessId),
        eq(webhookDeliveries.endpointId, endpointId),
        eq(webhookDeliveries.id, id),
      ),
    );
  return row;
}

/** A delivery with its endpoint, locked for the attempt's bookkeeping. */
export async function findDeliveryForAttempt(
  db: DbOrTx,
  id: string,
): Promise<{ delivery: DeliveryRow; endpoint: EndpointRow } | undefined> {
  const [row] = await db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, id));
  return row;
}

export async function listDeliveries(
  db: DbOrTx,
  businessId: string,
  endpointId: string,
  page: { limit: number; before?: string },
): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.businessId, businessId),
        eq(webhookDeliveries.endpointId, endpointId),
        page.before === undefined ? undefined : lt(webhookDeliveries.id, page.before),
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(page.limit + 1);
}

export async function listAttempts(db: DbOrTx, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db
    .select()
    .from(webhookAttempts)
    .where(inArray(webhookAttempts.deliveryId, deliveryIds))
    .orderBy(asc(webhookAttempts.id));
}

export async function insertAttempt(
  db: DbOrTx,
  values: typeof webhookAttempts.$inferInsert,
): Promise<void> {
  await db.insert(webhookAttempts).values(values);
}

export async function setDeliveryStatus(
  db: DbOrTx,
  id: string,
  status: DeliveryStatus,
  nextAttemptAt: Date | null,
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status, nextAttemptAt, updatedAt: sql`now()` })
    .where(eq(webhookDeliveries.id, id));
}

/** Disables an enabled endpoint; undefined when it was already disabled (or is gone). */
export async function disableEndpoint(
  db: DbOrTx,
  id: string,
  reason: string,
  at: Date,
): Promise<EndpointRow | undefined> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ enabled: false, disabledAt: at, disabledReason: reason, updatedAt: sql`now()` })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.enabled, true)))
    .returning();
  return row;
}

/** Starts the failure clock at the first failure since the last success; returns its start. */
export async function markEndpointFailing(db: DbOrTx, id: string, at: Date): Promise<Date> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at.toISOString()}::timestamptz)`,
    })
    .where(eq(webhookEndpoints.id, id))
    .returning({ failingSince: webhookEndpoints.failingSince });
  return row?.failingSince ?? at;
}

export async function markEndpointHealthy(db: DbOrTx, id: string): Promise<void> {
  await db
    .update(webhookEndpoints)
    .set({ failingSince: null })
    .where(and(eq(webhookEndpoints.id, id), sql`${webhookEndpoints.failingSince} is not null`));
}

/** Active owners of a business, with the business name, for operational emails. */
export async function findOwners(
  db: DbOrTx,
  businessId: string,
): Promise<{ email: string; businessName: string }[]> {
  return db
    .select({ email: users.email, businessName: businesses.name })
    .from(users)
    .innerJoin(businesses, eq(businesses.id, users.businessId))
    .where(
      and(eq(users.businessId, businessId), eq(users.role, 'owner'), eq(users.status, 'active')),
    );
}
