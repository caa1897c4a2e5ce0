import { sql } from 'drizzle-orm';
import {
  bigint,
  foreignKey,
  index,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, money, primaryId, timestampMs, updatedAt } from './columns.js';
import { businesses, locations, users } from './tenancy.js';

export const SHIFT_STATUSES = ['open', 'closed'] as const;
export type ShiftStatus = (typeof SHIFT_STATUSES)[number];

export const CASH_MOVEMENT_TYPES = ['pay_in', 'pay_out'] as const;
export type CashMovementType = (typeof CASH_MOVEMENT_TYPES)[number];

/** The partial unique index that allows one open shift per register and location (409 `register`). */
export const SHIFTS_OPEN_REGISTER_UNIQUE = 'shifts_open_register_unique';
export const SHIFTS_PKEY = 'shifts_pkey';

/**
 * One cashier at one till from opening to closing (API.md "Shifts and the cash drawer").
 * The id is made by the till, so it is unique only within its business: the key is
 * (business_id, id), and everything that names a shift (sales.shift_id, cash movements)
 * is joined to it within its business — another business's shift id never matches.
 *
 * The figures of a closed shift are computed from the facts (shifts.report.sql.ts); the
 * close only freezes where its facts end (`closeSaleNumber`, `closeReceivedAt`) and the
 * expected cash it computed, so facts arriving later never move them.
 */
export const shifts = pgTable(
  'shifts',
  {
    id: uuid().notNull(),
    businessId: uuid()
      .notNull()
      .references(() => businesses.id),
    locationId: uuid().notNull(),
    cashierId: uuid()
      .notNull()
      .references(() => users.id),
    /** The till's name, as the cashier typed it; compared case-insensitively. */
    register: text().notNull(),
    /** sha256 of the canonical opening body (and the opener): a replay with another body is 422. */
    requestHash: text().notNull(),
    openedAt: timestampMs().notNull(),
    openingFloat: money().notNull(),
    status: text().$type<ShiftStatus>().notNull().default('open'),
    closedAt: timestampMs(),
    /** When the close reached the server. */
    closeReceivedAt: timestampMs(),
    /** The business's last sale number when the close was taken: later numbers are late sales. */
    closeSaleNumber: bigint({ mode: 'number' }),
    closedBy: uuid().references(() => users.id),
    countedCash: money(),
    expectedCash: money(),
    closeNote: text(),
    /** sha256 of the canonical closing body: the same close again answers the shift, another is 422. */
    closeHash: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    primaryKey({ name: SHIFTS_PKEY, columns: [table.businessId, table.id] }),
    foreignKey({
      name: 'shifts_location_business_fk',
      columns: [table.locationId, table.businessId],
      foreignColumns: [locations.id, locations.businessId],
    }),
    // A register has at most one open shift per location: two branches may each have "Till 1".
    uniqueIndex(SHIFTS_OPEN_REGISTER_UNIQUE)
      .on(table.businessId, table.locationId, sql`lower(${table.register})`)
      .where(sql`${table.status} = 'open'`),
    index('shifts_business_opened_idx').on(table.businessId, table.openedAt, table.id),
    index('shifts_location_open_idx')
      .on(table.businessId, table.locationId)
      .where(sql`${table.status} = 'open'`),
  ],
);

/** The unique index that records a pay-in or pay-out once per (business, clientRequestId). */
export const CASH_MOVEMENTS_CLIENT_REQUEST_UNIQUE = 'shift_cash_movements_client_request_unique';

/** Cash put into or taken out of the drawer during a shift, other than sales and refunds. */
export const shiftCashMovements = pgTable(
  'shift_cash_movements',
  {
    id: primaryId(),
    businessId: uuid().notNull(),
    shiftId: uuid().notNull(),
    clientRequestId: uuid().notNull(),
    requestHash: text().notNull(),
    type: text().$type<CashMovementType>().notNull(),
    amount: money().notNull(),
    note: text().notNull(),
    createdBy: uuid()
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (table) => [
    foreignKey({
      name: 'shift_cash_movements_shift_fk',
      columns: [table.businessId, table.shiftId],
      foreignColumns: [shifts.businessId, shifts.id],
    }),
    uniqueIndex(CASH_MOVEMENTS_CLIENT_REQUEST_UNIQUE).on(table.businessId, table.clientRequestId),
    index('shift_cash_movements_shift_idx').on(table.businessId, table.shiftId),
  ],
);

export type ShiftRow = typeof shifts.$inferSelect;
export type ShiftCashMovementRow = typeof shiftCashMovements.$inferSelect;
