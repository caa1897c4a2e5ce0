import { digestsQueue } from '../emails/low-stock-digest.job.js';
import { emailQueue, planEmailJob } from '../emails/email.job.js';
import { planEventDeliveries, webhooksQueue } from '../modules/webhooks/webhooks.job.js';
import { maintenanceQueue } from './maintenance.job.js';
import { mpesaQueue } from '../modules/payments/payments.job.js';
import { reportsQueue } from '../modules/reports/exports.job.js';
import { smsQueue } from '../modules/sms/sms.job.js';
import type { Db } from '../db/client.js';
import type { OutboxKind } from '../db/schema/index.js';
import {
  outboxTypeOf,
  type AnyJobDefinition,
  type PlannedJob,
  type QueueDefinition,
} from './types.js';

/** Every queue the worker process serves. Add a module's `defineQueue(…)` here. */
export const queueDefinitions: QueueDefinition[] = [
  maintenanceQueue,
  emailQueue,
  webhooksQueue,
  digestsQueue,
  mpesaQueue,
  reportsQueue,
  smsQueue,
];

/** An outbox row as the relay hands it to a planner. */
export interface OutboxEntry {
  messageId: string;
  businessId: string | null;
  kind: OutboxKind;
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * What outbox rows become in BullMQ (API.md "Guarantees beyond single requests"): events fan
 * out to webhook deliveries, emails to the email queue, and a job row to the job whose
 * `outboxMessage()` wrote it, found among `definitions`. Each job id is deterministic, so a
 * re-relay adds nothing.
 */
export function outboxPlanner(definitions: readonly QueueDefinition[] = queueDefinitions) {
  const jobsByType = new Map<string, AnyJobDefinition>(
    definitions.flatMap((queue) => queue.jobs.map((job) => [outboxTypeOf(job), job] as const)),
  );
  /** The queue a row's jobs go to; undefined for a job row no queue owns. */
  const queueOf = (row: OutboxEntry): string | undefined => {
    if (row.kind === 'event') return webhooksQueue.queue;
    if (row.kind === 'email') return emailQueue.queue;
    return jobsByType.get(row.type)?.queue;
  };
  const plan = async (db: Db, row: OutboxEntry): Promise<PlannedJob[]> => {
    switch (row.kind) {
      case 'event':
        return planEventDeliveries(db, row);
      case 'email':
        return [planEmailJob(row)];
      case 'job': {
        const job = jobsByType.get(row.type);
        if (!job) return []; // no queue owns it: nothing could run it (the relay logs it)
        return [{ queue: job.queue, name: job.name, data: row.payload, jobId: row.messageId }];
      }
      default:
        return [];
    }
  };
  return { queueOf, plan };
}
