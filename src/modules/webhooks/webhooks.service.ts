import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import type { DbOrTx } from '../../db/client.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { outboxMessage } from '../../jobs/types.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { decodeIdCursor, nextIdCursor } from '../../lib/cursor.js';
import { newId } from '../../lib/ids.js';
import { checkWebhookUrl, urlPolicy } from './url-guard.js';
import { encryptSecret, generateWebhookSecret } from './webhook-secret.js';
import { deliverJob, retryJob } from './webhooks.job.js';
import * as repo from './webhooks.repo.js';
import {
  MAX_LISTED_ATTEMPTS,
  type CreateWebhookBody,
  type Delivery,
  type UpdateWebhookBody,
  type Webhook,
} from './webhooks.schemas.js';

async function assertDeliverableUrl(deps: AppDeps, url: string): Promise<void> {
  const check = await checkWebhookUrl(url, urlPolicy(deps.config));
  if (!check.ok) {
    throw unprocessable(`The webhook URL ${check.reason}`, [
      { path: 'url', message: `URL ${check.reason}`, code: 'forbidden_url' },
    ]);
  }
}

/** Registers an endpoint; the secret is returned once and stored only encrypted. */
export async function createWebhook(
  deps: AppDeps,
  caller: Caller,
  body: CreateWebhookBody,
): Promise<Webhook & { secret: string }> {
  await assertDeliverableUrl(deps, body.url);
  const secret = generateWebhookSecret();
  const row = await repo.insertEndpoint(deps.db, {
    id: newId(),
    businessId: caller.businessId,
    url: body.url,
    description: body.description ?? null,
    events: body.events,
    secretCiphertext: encryptSecret(secret, deps.config.webhooks.secretKey),
  });
  return { ...presentWebhook(row), secret };
}

/** The business's endpoints, oldest first. */
export async function listWebhooks(
  deps: AppDeps,
  caller: Caller,
  page: { limit?: number; cursor?: string },
): Promise<{ data: Webhook[]; nextCursor: string | null }> {
  const limit = page.limit ?? 50;
  const rows = await repo.listEndpoints(deps.db, caller.businessId, {
    limit,
    after: decodeIdCursor(page.cursor),
  });
  const data = rows.slice(0, limit);
  return {
    data: data.map(presentWebhook),
    nextCursor: nextIdCursor(rows, limit),
  };
}

/** One endpoint of the business (404 for another business's). */
export async function getWebhook(deps: AppDeps, caller: Caller, id: string): Promise<Webhook> {
  return presentWebhook(await requireEndpoint(deps.db, caller.businessId, id));
}

/** Changes url/events/description; `enabled: true` re-enables a disabled endpoint. */
export async function updateWebhook(
  deps: AppDeps,
  caller: Caller,
  id: string,
  body: UpdateWebhookBody,
): Promise<Webhook> {
  await requireEndpoint(deps.db, caller.businessId, id);
  if (body.url !== undefined) await assertDeliverableUrl(deps, body.url);
  const reenable =
    body.enabled === true
      ? { enabled: true, disabledAt: null, disabledReason: null, failingSince: null }
      : body.enabled === false
        ? { enabled: false, disabledAt: deps.clock(), disabledReason: 'disabled by the owner' }
        : {};
  const row = await repo.updateEndpoint(deps.db, caller.businessId, id, {
    ...(body.url === undefined ? {} : { url: body.url }),
    ...(body.events === undefined ? {} : { events: body.events }),
    ...(body.description === undefined ? {} : { description: body.description }),
    ...reenable,
  });
  if (!row) throw notFound('Webhook');
  return presentWebhook(row);
}

/** Deletes an endpoint with its delivery log; queued attempts for it find nothing and stop. */
export async function deleteWebhook(deps: AppDeps, caller: Caller, id: string): Promise<void> {
  if (!(await repo.deleteEndpoint(deps.db, caller.businessId, id))) throw notFound('Webhook');
}

/** Replaces the signing secret; the new one is returned once. */
export async function rotateWebhookSecret(
  deps: AppDeps,
  caller: Caller,
  id: string,
): Promise<Webhook & { secret: string }> {
  const secret = generateWebhookSecret();
  const row = await repo.updateEndpoint(deps.db, caller.businessId, id, {
    secretCiphertext: encryptSecret(secret, deps.config.webhooks.secretKey),
  });
  if (!row) throw notFound('Webhook');
  return { ...presentWebhook(row), secret };
}

/** Emits a `webhook.test` event to this endpoint only (through the outbox, like any event). */
export async function sendTestEvent(deps: AppDeps, caller: Caller, id: string): Promise<Delivery> {
  return deps.db.transaction(async (tx) => {
    const endpoint = await requireEndpoint(tx, caller.businessId, id);
    const messageId = newId();
    const now = deps.clock();
    const [deliveryId] = await repo.insertDeliveries(tx, [
      {
        businessId: caller.businessId,
        endpointId: endpoint.id,
        messageId,
        eventType: 'webhook.test',
        eventAt: now,
        data: { webhookId: endpoint.id, message: 'This is a test event from your POS.' },
      },
    ]);
    if (deliveryId !== undefined) {
      await writeOutbox(tx, outboxMessage(deliverJob, caller.businessId, { deliveryId }));
    }
    const delivery =
      deliveryId === undefined
        ? undefined
        : await repo.findDelivery(tx, caller.businessId, endpoint.id, deliveryId);
    if (!delivery) throw new Error('test delivery was not created');
    return presentDelivery(delivery, []);
  });
}

/** The endpoint's deliveries, newest first, each with every attempt. */
export async function listDeliveries(
  deps: AppDeps,
  caller: Caller,
  endpointId: string,
  page: { limit?: number; cursor?: string },
): Promise<{ data: Delivery[]; nextCursor: string | null }> {
  await requireEndpoint(deps.db, caller.businessId, endpointId);
  const limit = page.limit ?? 50;
  const rows = await repo.listDeliveries(deps.db, caller.businessId, endpointId, {
    limit,
    before: decodeIdCursor(page.cursor),
  });
  const deliveries = rows.slice(0, limit);
  const attempts = await repo.listAttempts(
    deps.db,
    deliveries.map((delivery) => delivery.id),
  );
  return {
    data: deliveries.map((delivery) =>
      presentDelivery(
        delivery,
        attempts.filter((attempt) => attempt.deliveryId === delivery.id),
      ),
    ),
    nextCursor: nextIdCursor(rows, limit),
  };
}

/** Queues one attempt now for a delivery not yet succeeded (same webhook-id). */
export async function retryDelivery(
  deps: AppDeps,
  caller: Caller,
  endpointId: string,
  deliveryId: string,
): Promise<Delivery> {
  return deps.db.transaction(async (tx) => {
    await requireEndpoint(tx, caller.businessId, endpointId);
    const delivery = await repo.findDelivery(tx, caller.businessId, endpointId, deliveryId);
    if (!delivery) throw notFound('Delivery');
    if (delivery.status === 'succeeded') {
      throw unprocessable('This delivery already succeeded');
    }
    // A pending delivery keeps its scheduled attempt (restored if this one fails).
    await repo.setDeliveryStatus(
      tx,
      delivery.id,
      'pending',
      delivery.status === 'dead' ? deps.clock() : delivery.nextAttemptAt,
    );
    await writeOutbox(
      tx,
      outboxMessage(retryJob, caller.businessId, {
        deliveryId: delivery.id,
        restoreStatus: delivery.status,
      }),
    );
    const attempts = await repo.listAttempts(tx, [delivery.id]);
    return presentDelivery(
      { ...delivery, status: 'pending', nextAttemptAt: deps.clock() },
      attempts,
    );
  });
}

async function requireEndpoint(
  db: DbOrTx,
  businessId: string,
  id: string,
): Promise<repo.EndpointRow> {
  const row = await repo.findEndpoint(db, businessId, id);
  if (!row) throw notFound('Webhook');
  return row;
}

function presentWebhook(row: repo.EndpointRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function presentDelivery(row: repo.DeliveryRow, attempts: repo.AttemptRow[]): Delivery {
  return {
    id: row.id,
    eventId: row.messageId,
    eventType: row.eventType,
    status: row.status,
    ...(row.status === 'pending' && row.nextAttemptAt
      ? { nextAttemptAt: row.nextAttemptAt.toISOString() }
      : {}),
    createdAt: row.createdAt.toISOString(),
    attempts: attempts.slice(-MAX_LISTED_ATTEMPTS).map((attempt) => ({
      at: attempt.at.toISOString(),
      status: attempt.status,
      ...(attempt.responseStatus === null ? {} : { responseStatus: attempt.responseStatus }),
      durationMs: attempt.durationMs,
      ...(attempt.error === null ? {} : { error: attempt.error }),
    })),
  };
}
