import { UnrecoverableError, type Job } from 'bullmq';
import type { DbOrTx } from '../../db/client.js';
import type { Agent } from 'undici';
import type { AppDeps } from '../../deps.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { recordEffect } from '../../jobs/record-effect.js';
import { defineJob, defineQueue, type PlannedJob } from '../../jobs/types.js';
import { z } from '../../lib/zod.js';
import { asPeerFailure } from '../../observability/report.js';
import { createDeliveryAgent, urlPolicy } from './url-guard.js';
import { postWebhook, type AttemptResult } from './webhook-delivery.js';
import { decryptSecret } from './webhook-secret.js';
import * as repo from './webhooks.repo.js';

const agents = new WeakMap<AppDeps['config'], Agent>();
function agentFor(deps: AppDeps): Agent {
  let agent = agents.get(deps.config);
  if (!agent) {
    agent = createDeliveryAgent(urlPolicy(deps.config), deps.config.webhooks.timeoutMs);
    agents.set(deps.config, agent);
  }
  return agent;
}

type Outcome =
  | { result: 'skipped'; reason: string }
  | { result: 'succeeded' }
  | { result: 'failed'; attempt: AttemptResult; endpointDisabled: boolean };

/**
 * One attempt of one delivery, with its bookkeeping: the attempt row, the delivery status,
 * the endpoint's failure clock, and disabling the endpoint (410 Gone, or failing for
 * WEBHOOK_DISABLE_AFTER_SECONDS) with an email to the owners.
 */
export async function attemptDelivery(deps: AppDeps, deliveryId: string): Promise<Outcome> {
  const found = await repo.findDeliveryForAttempt(deps.db, deliveryId);
  // Deleted endpoint, or a delivery rolled back after its job was enqueued: nothing to do.
  if (!found) return { result: 'skipped', reason: 'delivery not found' };
  const { delivery, endpoint } = found;
  if (delivery.status === 'succeeded') return { result: 'skipped', reason: 'already succeeded' };
  if (!endpoint.enabled) {
    await repo.setDeliveryStatus(deps.db, delivery.id, 'dead', null);
    await repo.insertAttempt(deps.db, {
      deliveryId: delivery.id,
      at: deps.clock(),
      status: 'failed',
      durationMs: 0,
      error: 'endpoint disabled',
    });
    return { result: 'skipped', reason: 'endpoint disabled' };
  }

  const at = deps.clock();
  const body = JSON.stringify({
    type: delivery.eventType,
    timestamp: delivery.eventAt.toISOString(),
    data: delivery.data,
  });
  const attempt = await postWebhook(
    agentFor(deps),
    urlPolicy(deps.config),
    deps.config.webhooks.timeoutMs,
    {
      url: endpoint.url,
      secret: decryptSecret(endpoint.secretCiphertext, deps.config.webhooks.secretKey),
      messageId: delivery.messageId,
      body,
      timestamp: Math.floor(at.getTime() / 1000),
    },
  );

  // The POST happened: record it through a short database outage rather than POST again.
  return recordEffect(() => recordOutcome(deps, delivery, endpoint, at, attempt));
}

type FoundDelivery = NonNullable<Awaited<ReturnType<typeof repo.findDeliveryForAttempt>>>;

/** The attempt row, the delivery status and the endpoint's health, in one transaction. */
function recordOutcome(
  deps: AppDeps,
  delivery: FoundDelivery['delivery'],
  endpoint: FoundDelivery['endpoint'],
  at: Date,
  attempt: AttemptResult,
): Promise<Outcome> {
  return deps.db.transaction(async (tx) => {
    await repo.insertAttempt(tx, {
      deliveryId: delivery.id,
      at,
      status: attempt.ok ? 'succeeded' : 'failed',
      responseStatus: attempt.responseStatus ?? null,
      durationMs: attempt.durationMs,
      error: attempt.error ?? null,
    });
    if (attempt.ok) {
      await repo.setDeliveryStatus(tx, delivery.id, 'succeeded', null);
      await repo.markEndpointHealthy(tx, endpoint.id);
      return { result: 'succeeded' as const };
    }
    const failingSince = await repo.markEndpointFailing(tx, endpoint.id, at);
    const gone = attempt.responseStatus === 410;
    const tooLong = at.getTime() - failingSince.getTime() >= deps.config.webhooks.disableAfterMs;
    let endpointDisabled = false;
    if (gone || tooLong) {
      const reason = gone
        ? 'The endpoint answered 410 Gone'
        : `Every delivery failed for ${formatDuration(deps.config.webhooks.disableAfterMs)}`;
      const disabled = await repo.disableEndpoint(tx, endpoint.id, reason, at);
      if (disabled) {
        const owners = await repo.findOwners(tx, endpoint.businessId);
        await writeOutbox(
          tx,
          owners.map((owner) => ({
            kind: 'email' as const,
            type: 'webhook-disabled',
            businessId: endpoint.businessId,
            payload: {
              to: owner.email,
              businessName: owner.businessName,
              url: endpoint.url,
              reason,
            },
          })),
        );
      }
      endpointDisabled = true;
      await repo.setDeliveryStatus(tx, delivery.id, 'dead', null);
    }
    return { result: 'failed' as const, attempt, endpointDisabled };
  });
}

/** Scheduled attempt: failures go back to BullMQ, which retries on the configured schedule. */
async function processDeliver(deliveryId: string, deps: AppDeps, job: Job): Promise<unknown> {
  const outcome = await attemptDelivery(deps, deliveryId);
  if (outcome.result !== 'failed') return outcome;
  // The customer's endpoint failing is theirs to fix (the delivery log shows it): not an
  // error of this service for error tracking.
  if (outcome.endpointDisabled)
    throw asPeerFailure(
      new UnrecoverableError(`endpoint disabled: ${outcome.attempt.error ?? ''}`),
    );
  const schedule = deps.config.webhooks.retryScheduleMs;
  const delay = schedule[job.attemptsMade];
  if (delay === undefined) {
    await repo.setDeliveryStatus(deps.db, deliveryId, 'dead', null);
    throw asPeerFailure(
      new UnrecoverableError(
        `delivery dead after ${job.attemptsMade + 1} attempts: ${outcome.attempt.error ?? ''}`,
      ),
    );
  }
  await repo.setDeliveryStatus(
    deps.db,
    deliveryId,
    'pending',
    new Date(deps.clock().getTime() + delay),
  );
  throw new Error(outcome.attempt.error ?? 'delivery failed');
}

/** Manual retry: exactly one attempt; a failure leaves the delivery as it was. */
async function processRetry(
  deliveryId: string,
  restoreStatus: 'pending' | 'dead',
  deps: AppDeps,
): Promise<unknown> {
  const outcome = await attemptDelivery(deps, deliveryId);
  if (outcome.result === 'failed' && !outcome.endpointDisabled) {
    const found = await repo.findDeliveryForAttempt(deps.db, deliveryId);
    if (found?.delivery.status === 'pending') {
      await repo.setDeliveryStatus(
        deps.db,
        deliveryId,
        restoreStatus,
        restoreStatus === 'dead' ? null : found.delivery.nextAttemptAt,
      );
    }
  }
  return outcome.result === 'failed' ? { result: 'failed', error: outcome.attempt.error } : outcome;
}

function formatDuration(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 24 ? `${Math.round(hours / 24)} days` : `${Math.round(hours * 10) / 10} hours`;
}

/** One scheduled attempt of a delivery (from an event's fan-out, or the test event). */
export const deliverJob = defineJob({
  queue: 'webhooks',
  name: 'deliver',
  payload: z.object({ deliveryId: z.uuid() }),
  handle: (payload, deps, job) => processDeliver(payload.deliveryId, deps, job),
});

/** A manual retry of a delivery (POST …/deliveries/{id}/retry). */
export const retryJob = defineJob({
  queue: 'webhooks',
  name: 'retry',
  payload: z.object({ deliveryId: z.uuid(), restoreStatus: z.enum(['pending', 'dead']) }),
  handle: (payload, deps) => processRetry(payload.deliveryId, payload.restoreStatus, deps),
});

/**
 * What an `event` outbox row becomes: one delivery per enabled endpoint of the business that
 * subscribes to the event, and a `deliver` job for each. The deliveries are written on `db`
 * (committed at once, outside the relay's claiming transaction): a worker may pick a job up
 * before the relay commits, and must find its delivery. They are keyed by (endpoint,
 * message), so a batch retried after a Redis failure reuses them and their job ids.
 */
export async function planEventDeliveries(
  db: DbOrTx,
  event: {
    businessId: string | null;
    messageId: string;
    type: string;
    createdAt: Date;
    payload: Record<string, unknown>;
  },
): Promise<PlannedJob[]> {
  if (event.businessId === null) return [];
  const businessId = event.businessId;
  const endpoints = await repo.findSubscribedEndpoints(db, businessId, event.type);
  const deliveryIds = await repo.insertDeliveries(
    db,
    endpoints.map((endpoint) => ({
      businessId,
      endpointId: endpoint.id,
      messageId: event.messageId,
      eventType: event.type,
      eventAt: event.createdAt,
      data: event.payload,
    })),
  );
  return deliveryIds.map((deliveryId) => ({
    queue: deliverJob.queue,
    name: deliverJob.name,
    data: { deliveryId },
    jobId: deliveryId,
  }));
}

export const webhooksQueue = defineQueue(
  {
    queue: 'webhooks',
    concurrency: 8,
    defaultJobOptions: {
      // Attempts are bounded by the schedule (WEBHOOK_RETRY_SCHEDULE_MS): the processor marks
      // the last failure dead and throws UnrecoverableError.
      attempts: 100,
      backoff: { type: 'custom' },
    },
    backoffStrategy: (attemptsMade, deps) =>
      deps.config.webhooks.retryScheduleMs[attemptsMade - 1] ?? -1,
  },
  [deliverJob, retryJob],
);
