import os from 'node:os';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { webhookAttempts, webhookDeliveries } from '../../src/db/schema/index.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { newId } from '../../src/lib/ids.js';
import { encryptSecret, generateWebhookSecret } from '../../src/modules/webhooks/webhook-secret.js';
import { insertEndpoint } from '../../src/modules/webhooks/webhooks.repo.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually, sleep, useJobs } from '../helpers/jobs.js';
import { startReceiver } from '../helpers/receiver.js';

// Workers with the production rule: private networks refused at delivery time.
const jobs = useJobs({
  env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', WEBHOOK_RETRY_SCHEDULE_MS: '100' },
});
const canary = await startReceiver();
afterAll(() => canary.close());

describe('delivery-time SSRF guard', () => {
  it('never connects to a non-public address, however the stored URL spells it', async () => {
    const { deps } = jobs;
    const business = await createBusiness(deps);
    jobs.businessIds.add(business.id);
    const port = canary.port;
    // Stored as if they had passed the create-time check (DNS can change between the two).
    const urls = [
      `http://localhost:${port}/hook`,
      `http://${os.hostname()}:${port}/hook`,
      `http://127.0.0.1:${port}/hook`,
      `http://2130706433:${port}/hook`,
      `http://0x7f000001:${port}/hook`,
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://169.254.169.254:${port}/latest/meta-data/`,
    ];
    for (const url of urls) {
      await insertEndpoint(deps.db, {
        id: newId(),
        businessId: business.id,
        url,
        events: ['*'],
        secretCiphertext: encryptSecret(generateWebhookSecret(), deps.config.webhooks.secretKey),
      });
    }
    const messageId = newId();
    await writeOutbox(deps.db, {
      kind: 'event',
      type: 'sale.created',
      businessId: business.id,
      messageId,
      payload: { id: newId() },
    });
    const deliveries = await eventually(async () => {
      const rows = await deps.db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.messageId, messageId));
      return rows.length === urls.length && rows.every((row) => row.status === 'dead') && rows;
    });
    for (const delivery of deliveries) {
      const attempts = await deps.db
        .select()
        .from(webhookAttempts)
        .where(eq(webhookAttempts.deliveryId, delivery.id));
      expect(attempts).toHaveLength(2); // first try + the one retry of the schedule
      for (const attempt of attempts) {
        expect(attempt.responseStatus).toBeNull();
        expect(attempt.error).toMatch(/non-public address|must not point to a private/);
      }
    }
    await sleep(200);
    expect(canary.received).toHaveLength(0);
  });
});
