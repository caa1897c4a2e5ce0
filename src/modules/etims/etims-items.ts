import { eq } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { etimsSettings } from '../../db/schema/index.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { outboxMessage } from '../../jobs/types.js';
import { registerItemJob } from './etims.job.js';

/** In a product write's transaction: queue its saveItem when the business has eTIMS on. */
export async function queueItemRegistration(
  tx: DbOrTx,
  businessId: string,
  productId: string,
): Promise<void> {
  const [settings] = await tx
    .select({ enabled: etimsSettings.enabled })
    .from(etimsSettings)
    .where(eq(etimsSettings.businessId, businessId));
  if (!settings?.enabled) return;
  await writeOutbox(tx, outboxMessage(registerItemJob, businessId, { businessId, productId }));
}
