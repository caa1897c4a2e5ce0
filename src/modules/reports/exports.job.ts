import { UnrecoverableError, type Job } from 'bullmq';
import type { AppDeps } from '../../deps.js';
import { defineJob, defineQueue } from '../../jobs/types.js';
import { z } from '../../lib/zod.js';
import {
  findExportForJob,
  markExportAttemptFailed,
  markExportDone,
  markExportRunning,
} from './exports.repo.js';
import { streamSalesCsv } from './sales-csv.js';

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

const FAILURE_REASONS = {
  read: 'The sales could not be read from the database',
  store: 'The file could not be written to storage',
} as const;

async function processExport(exportId: string, deps: AppDeps, job: Job): Promise<ExportOutcome> {
  try {
    return await runSalesExport(deps, exportId);
  } catch (error) {
    if (error instanceof UnrecoverableError) throw error;
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade + 1 >= attempts;
    const phase = (error as { exportPhase?: 'read' | 'store' }).exportPhase ?? 'read';
    deps.logger.warn(
      { exportId, attempt: job.attemptsMade + 1, err: error },
      'sales export attempt failed',
    );
    await markExportAttemptFailed(deps.db, exportId, {
      status: final ? 'failed' : 'queued',
      error: `${FAILURE_REASONS[phase]} (attempt ${job.attemptsMade + 1} of ${attempts})`,
      now: deps.clock(),
    });
    throw error;
  }
}

/** Builds a sales export; enqueued through the outbox by POST /reports/exports. */
export const exportSalesJob = defineJob({
  queue: 'reports',
  name: 'export-sales',
  payload: z.object({ exportId: z.uuid() }),
  handle: (payload, deps, job) => processExport(payload.exportId, deps, job),
});

export const reportsQueue = defineQueue(
  {
    queue: 'reports',
    concurrency: 2,
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2_000 } },
  },
  [exportSalesJob],
);
