import { sql } from 'drizzle-orm';
import { bigint, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Millisecond precision everywhere, so a timestamp in a response is exactly the stored one. */
export const timestampMs = (name?: string) =>
  name === undefined
    ? timestamp({ withTimezone: true, precision: 3, mode: 'date' })
    : timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

/** Money: integer cents (KES), read as a JavaScript number (exact up to 2^53). */
export const money = () => bigint({ mode: 'number' });

/** Ids are UUIDv7 made by the application (src/lib/ids.ts). */
export const primaryId = () => uuid().primaryKey();

export const createdAt = () =>
  timestampMs()
    .notNull()
    .default(sql`now()`);
export const updatedAt = () =>
  timestampMs()
    .notNull()
    .default(sql`now()`);
