import { UnrecoverableError } from 'bullmq';
import { and, eq, sql } from 'drizzle-orm';
import type { AppDeps } from '../deps.js';
import { emailLog, outbox } from '../db/schema/index.js';
import { recordEffect } from '../jobs/record-effect.js';
import { defineJob, defineQueue, type PlannedJob } from '../jobs/types.js';
import { newId } from '../lib/ids.js';
import { z } from '../lib/zod.js';
import { createMailer, isPermanentMailError } from './mailer.js';
import { emailTemplates } from './templates/index.js';

/**
 * Sends the email an outbox row asks for. The job carries only the message id: addresses
 * and links (reset tokens) stay in PostgreSQL. A message already logged as sent is not sent
 * again, so a re-run after a crash or a stalled job does not mail twice.
 */
export async function sendOutboxEmail(deps: AppDeps, messageId: string): Promise<unknown> {
  const [row] = await deps.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.messageId, messageId), eq(outbox.kind, 'email')));
  if (!row) throw new UnrecoverableError(`no email outbox message ${messageId}`);
  const [logged] = await deps.db.select().from(emailLog).where(eq(emailLog.messageId, messageId));
  if (logged?.status === 'sent') return { skipped: 'already sent' };

  const to = typeof row.payload.to === 'string' ? row.payload.to : '';
  const log = (status: 'sent' | 'failed', fields: { error?: string; providerMessageId?: string }) =>
    deps.db
      .insert(emailLog)
      .values({
        id: newId(),
        messageId,
        businessId: row.businessId,
        template: row.type,
        to,
        status,
        error: fields.error ?? null,
        providerMessageId: fields.providerMessageId ?? null,
      })
      .onConflictDoUpdate({
        target: emailLog.messageId,
        set: {
          status,
          error: fields.error ?? null,
          providerMessageId: fields.providerMessageId ?? null,
          attempts: sql`${emailLog.attempts} + 1`,
          updatedAt: sql`now()`,
        },
      });

  const template = emailTemplates.get(row.type);
  if (!template) {
    await log('failed', { error: `unknown template ${row.type}` });
    throw new UnrecoverableError(`unknown email template ${row.type}`);
  }
  const parsed = template.schema.safeParse(row.payload);
  if (!parsed.success) {
    const error = `payload does not match the ${row.type} template: ${parsed.error.issues
      .map((issue) => `${issue.path.join('.')} ${issue.message}`)
      .join('; ')}`;
    await log('failed', { error });
    throw new UnrecoverableError(error);
  }
  const rendered = template.render(parsed.data);
  const mailer = deps.mailer ?? (deps.mailer = createMailer(deps.config, deps.logger));
  let providerMessageId: string | undefined;
  try {
    ({ providerMessageId } = await mailer.send({ ...rendered, to, messageId }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await log('failed', { error: message.slice(0, 1_000) });
    if (isPermanentMailError(error)) throw new UnrecoverableError(message);
    throw error instanceof Error ? error : new Error(message);
  }
  // Sent: record it through a short database outage, or this job's retry would mail again.
  await recordEffect(() => log('sent', { providerMessageId }));
  return { sent: true, providerMessageId };
}

/** Sends one outbox email; the BullMQ job is named after the template, for operators. */
export const sendEmailJob = defineJob({
  queue: 'email',
  name: 'send',
  payload: z.object({ messageId: z.uuid() }),
  handle: (payload, deps) => sendOutboxEmail(deps, payload.messageId),
});

/** The job an `email` outbox row becomes: ids, not data (addresses, reset links stay in PostgreSQL). */
export const planEmailJob = (row: { type: string; messageId: string }): PlannedJob => ({
  queue: sendEmailJob.queue,
  name: row.type,
  data: { messageId: row.messageId },
  jobId: row.messageId,
});

export const emailQueue = defineQueue(
  {
    queue: 'email',
    concurrency: 4,
    defaultJobOptions: { attempts: 6, backoff: { type: 'exponential', delay: 5_000, jitter: 0.3 } },
    single: sendEmailJob,
  },
  [sendEmailJob],
);
