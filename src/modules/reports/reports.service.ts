import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { signedFileUrl } from '../../storage/storage-url.js';
import { outboxMessage } from '../../jobs/types.js';
import { exportSalesJob } from './exports.job.js';
import { findExport, insertExport, type ExportRow } from './exports.repo.js';
import {
  PAYMENT_METHOD_LABELS,
  type CreateExportBody,
  type ReportExport,
  type SalesSummary,
  type SalesSummaryQuery,
  type SummaryGroup,
} from './reports.schemas.js';
import type { GroupRow } from './summary.repo.js';
import {
  findCurrency,
  groupReturns,
  groupSales,
  sumReturns,
  sumSales,
  sumTaxByType,
} from './summary.repo.js';
import { MAX_SUMMARY_ROWS } from './reports.schemas.js';
import { readScope } from '../locations/location-access.js';

/** How long a download link works. */
const DOWNLOAD_URL_TTL_MS = 15 * 60_000;

/**
 * The sales summary of a range of local days, computed in SQL on every call: a year of a
 * busy shop's sales sums in tens of milliseconds (bench/summary-bench.ts), so there is no
 * cache to keep consistent with late offline syncs and voids.
 */
export async function getSalesSummary(
  deps: AppDeps,
  caller: Caller,
  query: SalesSummaryQuery,
): Promise<SalesSummary> {
  const range = {
    businessId: caller.businessId,
    timezone: caller.businessTimezone,
    from: query.from,
    to: query.to,
    locationIds: await readScope(deps.db, caller, query.locationId),
  };
  const [currency, totals, rows, returned, returnRows, taxByType] = await Promise.all([
    findCurrency(deps.db, caller.businessId),
    sumSales(deps.db, range),
    groupSales(deps.db, range, query.groupBy),
    sumReturns(deps.db, range),
    groupReturns(deps.db, range, query.groupBy),
    sumTaxByType(deps.db, range),
  ]);
  return {
    currency,
    totals: { ...totals, returns: returned, net: totals.net - returned },
    taxByType,
    rows: withReturns(rows, returnRows, query.groupBy).map((row) => ({
      ...row,
      label:
        row.label ??
        (query.groupBy === 'paymentMethod' ? (methodLabel(row.key) ?? row.key) : row.key),
    })),
  };
}

/**
 * The sales rows with each group's returns: `net` becomes gross − discount − returns, and a
 * group with returns but no sales in the range (a day of refunds only) gets a row of its own.
 * Days stay in ascending order; other groups are ordered by the new net, largest first.
 */
function withReturns(
  rows: GroupRow[],
  returnRows: { key: string; label: string | null; returns: number }[],
  groupBy: SummaryGroup,
) {
  const returnsOf = new Map(returnRows.map((row) => [row.key, row]));
  const merged = rows.map((row) => {
    const returns = returnsOf.get(row.key)?.returns ?? 0;
    returnsOf.delete(row.key);
    return { ...row, returns, net: row.net - returns };
  });
  for (const row of returnsOf.values()) {
    merged.push({
      key: row.key,
      label: row.label,
      count: 0,
      gross: 0,
      discount: 0,
      tax: 0,
      returns: row.returns,
      net: -row.returns,
    });
  }
  merged.sort(
    groupBy === 'day'
      ? (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
      : (a, b) => b.net - a.net || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return merged.slice(0, MAX_SUMMARY_ROWS);
}

/** Records an export request and its job in one transaction; the worker builds the file. */
export async function requestExport(
  deps: AppDeps,
  caller: Caller,
  body: CreateExportBody,
): Promise<ReportExport> {
  const locationIds = await readScope(deps.db, caller, body.locationId);
  const row = await deps.db.transaction(async (tx) => {
    const inserted = await insertExport(tx, {
      id: newId(),
      businessId: caller.businessId,
      requestedBy: caller.userId,
      type: body.type,
      format: body.format,
      fromDay: body.from,
      toDay: body.to,
      timezone: caller.businessTimezone,
      locationIds: locationIds ?? null,
      status: 'queued',
    });
    await writeOutbox(
      tx,
      outboxMessage(exportSalesJob, caller.businessId, { exportId: inserted.id }),
    );
    return inserted;
  });
  return toReportExport(deps, row);
}

/** One export of the business, with a fresh signed download link once it is done. */
export async function getExport(deps: AppDeps, caller: Caller, id: string): Promise<ReportExport> {
  const row = await findExport(deps.db, caller.businessId, id);
  if (!row) throw notFound('Export');
  return toReportExport(deps, row);
}

const methodLabel = (key: string): string | undefined =>
  Object.hasOwn(PAYMENT_METHOD_LABELS, key)
    ? PAYMENT_METHOD_LABELS[key as keyof typeof PAYMENT_METHOD_LABELS]
    : undefined;

function toReportExport(deps: AppDeps, row: ExportRow): ReportExport {
  const storageKey = row.status === 'done' ? row.storageKey : null;
  return {
    id: row.id,
    type: row.type,
    format: row.format,
    from: row.fromDay,
    to: row.toDay,
    status: row.status,
    rowCount: row.rowCount,
    error: row.error,
    ...(storageKey !== null
      ? {
          downloadUrl: signedFileUrl(
            deps.config,
            storageKey,
            new Date(deps.clock().getTime() + DOWNLOAD_URL_TTL_MS),
          ),
        }
      : {}),
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}
