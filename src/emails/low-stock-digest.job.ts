import { z } from '../lib/zod.js';
import { and, eq, isNotNull, lte, sql } from 'drizzle-orm';
import { v5 as uuidv5 } from 'uuid';
import type { AppDeps } from '../deps.js';
import { businesses, products, productStock, users } from '../db/schema/index.js';
import { writeOutbox } from '../jobs/outbox.js';
import { defineJob, defineQueue } from '../jobs/types.js';

// Namespace for digest message ids: one digest per owner per day, whoever runs the job.
const DIGEST_NAMESPACE = '5d1c7f0e-3f5b-4c43-9a49-6c8a4a3e2b17';
const MAX_PRODUCTS = 200;

/**
 * Queues the daily low-stock digest: for every business with lowStockEmails on, its tracked,
 * non-archived products at or under their threshold, emailed to each active owner. The
 * message id is derived from (business, owner, day), so a second run the same day is a no-op.
 */
export async function queueLowStockDigests(
  deps: Pick<AppDeps, 'db' | 'clock'>,
): Promise<{ emails: number }> {
  const day = deps.clock().toISOString().slice(0, 10);
  const low = await deps.db
    .select({
      businessId: businesses.id,
      businessName: businesses.name,
      name: products.name,
      sku: products.sku,
      stockQuantity: productStock.quantity,
      lowStockThreshold: products.lowStockThreshold,
    })
    .from(products)
    .innerJoin(businesses, eq(businesses.id, products.businessId))
    .innerJoin(
      productStock,
      and(
        eq(productStock.businessId, products.businessId),
        eq(productStock.productId, products.id),
      ),
    )
    .where(
      and(
        eq(businesses.lowStockEmails, true),
        eq(products.trackStock, true),
        eq(products.archived, false),
        isNotNull(products.lowStockThreshold),
        lte(productStock.quantity, sql`${products.lowStockThreshold}`),
      ),
    )
    .orderBy(businesses.id, productStock.quantity, products.name);

  const byBusiness = new Map<string, { name: string; products: typeof low }>();
  for (const row of low) {
    const entry = byBusiness.get(row.businessId) ?? { name: row.businessName, products: [] };
    if (entry.products.length < MAX_PRODUCTS) entry.products.push(row);
    byBusiness.set(row.businessId, entry);
  }

  let emails = 0;
  for (const [businessId, entry] of byBusiness) {
    const owners = await deps.db
      .select({ email: users.email })
      .from(users)
      .where(
        and(eq(users.businessId, businessId), eq(users.role, 'owner'), eq(users.status, 'active')),
      );
    await writeOutbox(
      deps.db,
      owners.map((owner) => ({
        kind: 'email' as const,
        type: 'low-stock-digest',
        businessId,
        messageId: uuidv5(`low-stock-digest:${businessId}:${owner.email}:${day}`, DIGEST_NAMESPACE),
        payload: {
          to: owner.email,
          businessName: entry.name,
          products: entry.products.map((product) => ({
            name: product.name,
            sku: product.sku,
            stockQuantity: product.stockQuantity,
            lowStockThreshold: product.lowStockThreshold ?? 0,
          })),
        },
      })),
    );
    emails += owners.length;
  }
  return { emails };
}

const lowStockDigestJob = defineJob({
  queue: 'digests',
  name: 'low-stock-digest',
  payload: z.unknown(),
  handle: (_payload, deps) => queueLowStockDigests(deps),
});

export const digestsQueue = defineQueue(
  {
    queue: 'digests',
    concurrency: 1,
    // 07:00 in Kenya, before most shops open.
    schedules: [{ job: lowStockDigestJob, pattern: '0 7 * * *', tz: 'Africa/Nairobi' }],
  },
  [lowStockDigestJob],
);
