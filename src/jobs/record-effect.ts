import { isTransientDatabaseError } from '../db/pg-errors.js';
import { retryWhile } from '../lib/retry.js';

/**
 * How long a job retries recording an effect that already happened (an email sent, a
 * webhook POSTed) while the database is unavailable. Failing the job instead would repeat
 * the effect on its retry: a second email, a duplicate delivery.
 */
export const RECORD_EFFECT_DEADLINE_MS = 30_000;

/** Records an effect that already happened, through a short database outage. */
export const recordEffect = <T>(record: () => Promise<T>): Promise<T> =>
  retryWhile(record, isTransientDatabaseError, { deadlineMs: RECORD_EFFECT_DEADLINE_MS });
