import { date, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, primaryId, timestampMs, updatedAt } from './columns.js';
import { businesses, users } from './tenancy.js';

export const EXPORT_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const EXPORT_TYPES = ['sales'] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];

/** A requested report export: built by the `reports` worker queue into storage. */
export const reportExports = pgTable(
  'report_exports',
  {
    id: primaryId(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    requestedBy: uuid()
      .notNull()
      .references(() => users.id),
    type: text().$type<ExportType>().notNull(),
    format: text().$type<'csv'>().notNull(),
    /** Inclusive days in `timezone`, the business's timezone when the export was requested. */
    fromDay: date({ mode: 'string' }).notNull(),
    toDay: date({ mode: 'string' }).notNull(),
    timezone: text().notNull(),
    /** The locations the export covers (the filter, or the requester's assignment); null = all. */
    locationIds: uuid().array(),
    status: text().$type<ExportStatus>().notNull().default('queued'),
    /** `exports/<id>.csv`; set when the file is written (a retry overwrites the same key). */
    storageKey: text(),
    rowCount: integer(),
    /** Why it failed, in words a user can act on (details are in the worker log). */
    error: text(),
    attempts: integer().notNull().default(0),
    createdAt: createdAt(),
    startedAt: timestampMs(),
    completedAt: timestampMs(),
    updatedAt: updatedAt(),
  },
  (table) => [index('report_exports_business_idx').on(table.businessId, table.id)],
);
