import { UnrecoverableError, type Job } from 'bullmq';
import type { AppDeps } from '../../deps.js';
import type { QueueDefinition } from '../../jobs/types.js';
import { z } from '../../lib/zod.js';
import {
  findExportForJob,
  markExportAttemptFailed,
  markExportDone,
  markExportRunning,
} from './exports.repo.js';
import { streamSalesCsv } from './sales-csv.js';

export const REPORTS_QUEUE = 'reports';
export const EXPORT_SALES_JOB = 'export-sales';
/** The outbox `type` that enqueues an export (`<queue>:<job>`). */
export const EXPORT_SALES_OUTBOX_TYPE = `${REPORTS_QUEUE}:${EXPORT_SALES_JOB}`;

/** Where an export's file lives: a private folder, served only through signed URLs. */
export const exportStorageKey = (id: string) => `exports/${id}.csv`;

/** A year of sales must fit; a runaway export still ends. */
const EXPORT_STATEMENT_TIMEOUT_MS = 10 * 60_000;

export interface ExportOutcome {
  status: 'done' | 'already-done';
  rowCount: number;
}

/**
 * Builds one export: streams the CSV from a COPY into storage under a fixed key, then marks
 * it done. Idempotent: a re-run of a finished export does nothing, and a retry of a failed
 * or interrupted one overwrites the same key (storage.put replaces atomically).
 */
export async function runSalesExport(deps: AppDeps, exportId: string): Promise<ExportOutcome> {
  const row = await findExportForJob(deps.db, exportId);
  if (!row) throw new UnrecoverableError(`export ${exportId} does not exist`);
  if (row.status === 'done') return { status: 'already-done', rowCount: row.rowCount ?? 0 };
  await markExportRunning(deps.db, row.id, deps.clock());

  const storageKey = exportStorageKey(row.id);
  let phase: 'read' | 'store' = 'read';
  try {
    const rowCount = await streamSalesCsv(
      deps.pool,
      {
        businessId: row.businessId,
        from: row.fromDay,
        to: row.toDay,
        timezone: row.timezone,
        locationIds: row.locationIds,
      },
      async (csv) => {
        phase = 'store';
        const source = { failed: false };
        csv.once('error', () => (source.failed = true));
        try {
          await deps.storage.put(storageKey, csv, { contentType: 'text/csv; charset=utf-8' });
        } catch (error) {
          if (source.failed) phase = 'read';
          throw error;
        }
      },
      { statementTimeoutMs: EXPORT_STATEMENT_TIMEOUT_MS },
    );
    await markExportDone(deps.db, row.id, { storageKey, rowCount, now: deps.clock() });
    return { status: 'done', rowCount };
  } catch (error) {
    Object.assign(error as object, { exportPhase: phase });
    throw error;
  }
}

const ExportJobData = z.object({ exportId: z.uuid() });

const FAILURE_REASONS = {
  read: 'The sales could not be read from the database',
  store: 'The file could not be written to storage',
} as const;

async function processExport(job: Job, deps: AppDeps): Promise<ExportOutcome> {
  const data = ExportJobData.safeParse(job.data);
  if (!data.success) throw new UnrecoverableError('export-sales needs {exportId: uuid}');
  try {
    return await runSalesExport(deps, data.data.exportId);
  } catch (error) {
    if (error instanceof UnrecoverableError) throw error;
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    const phase = (error as { exportPhase?: 'read' | 'store' }).exportPhase ?? 'read';
    deps.logger.warn(
      { exportId: data.data.exportId, attempt: job.attemptsMade + 1, err: error },
      'sales export attempt failed',
    );
    await markExportAttemptFailed(deps.db, data.data.exportId, {
      status: final ? 'failed' : 'queued',
      error: `${FAILURE_REASONS[phase]} (attempt ${job.attemptsMade + 1} of ${attempts})`,
      now: deps.clock(),
    });
    throw error;
  }
}

/** Queue `reports`: `export-sales` jobs, enqueued through the outbox by POST /reports/exports. */
export const reportsQueue: QueueDefinition = {
  queue: REPORTS_QUEUE,
  concurrency: 2,
  defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2_000 } },
  process: async (job, deps) => {
    if (job.name !== EXPORT_SALES_JOB)
      throw new UnrecoverableError(`unknown reports job ${job.name}`);
    return processExport(job, deps);
  },
};
