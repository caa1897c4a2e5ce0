import { UnrecoverableError, type Job } from 'bullmq';
import type { AppDeps } from '../../deps.js';
import { defineJob, defineQueue } from '../../jobs/types.js';
import { z } from '../../lib/zod.js';
import { AtSmsClient } from '../../sms/at-client.js';
import { findSmsForJob, updateSms } from './sms.repo.js';

/** Attempts at Africa's Talking before a message is marked failed. */
export const SMS_ATTEMPTS = 5;

/**
 * Sends one queued SMS through Africa's Talking. Idempotent: only a `queued` message is
 * sent, and it leaves `queued` on AT's answer (`sent` with AT's messageId, or `failed` when
 * AT refused it). While AT is down or slow the job throws and BullMQ retries it with
 * backoff; the last failed attempt marks it `failed`. (A retry after a timeout may send it
 * twice: AT has no idempotency key — docs/peers.md.) The payload is the id only: no phone
 * number or text in Redis.
 */
export async function sendSms(deps: AppDeps, smsId: string, job?: Job): Promise<string> {
  const row = await findSmsForJob(deps.db, smsId);
  if (!row) throw new UnrecoverableError(`sms ${smsId} does not exist`);
  if (row.status !== 'queued') return 'already-done';
  const { sms } = deps.config;
  if (!sms.apiKey) {
    await updateSms(deps.db, row.id, ['queued'], {
      status: 'failed',
      failureReason: 'SMS is not configured (AT_API_KEY)',
    });
    return 'not-configured';
  }
  const client = new AtSmsClient({
    baseUrl: sms.baseUrl,
    username: sms.username,
    apiKey: sms.apiKey,
    senderId: sms.senderId,
    timeoutMs: sms.timeoutMs,
    logger: deps.logger,
  });
  const attempt = (job?.attemptsMade ?? 0) + 1;
  const outcome = await client.send(row.phone, row.message);
  if (outcome.kind === 'accepted') {
    await updateSms(deps.db, row.id, ['queued'], {
      status: 'sent',
      providerMessageId: outcome.messageId,
      cost: outcome.cost,
      attempts: attempt,
      sentAt: deps.clock(),
    });
    return 'sent';
  }
  const final = outcome.kind === 'refused' || attempt >= (job?.opts.attempts ?? 1);
  await updateSms(deps.db, row.id, ['queued'], {
    attempts: attempt,
    failureReason: outcome.message.slice(0, 200),
    ...(final ? { status: 'failed' as const } : {}),
  });
  if (final) return 'failed';
  throw new Error(`Africa's Talking did not take the SMS (${outcome.reason}); retrying`);
}

export const sendSmsJob = defineJob({
  queue: 'sms',
  name: 'send-sms',
  payload: z.object({ smsId: z.uuid() }),
  handle: (payload, deps, job) => sendSms(deps, payload.smsId, job),
});

export const smsQueue = defineQueue(
  {
    queue: 'sms',
    concurrency: 4,
    defaultJobOptions: {
      attempts: SMS_ATTEMPTS,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    },
  },
  [sendSmsJob],
);
