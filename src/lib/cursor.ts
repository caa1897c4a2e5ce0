import { AppError } from './errors.js';
import { UUID_PATTERN } from './ids.js';
import { z } from './zod.js';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;
/**
 * The longest cursor a list accepts. Cursors are base64url JSON of a sort key (a timestamp
 * and a UUID: under 120 characters), so every `nextCursor` handed out fits.
 */
export const MAX_CURSOR_LENGTH = 200;

/** `nextCursor` of a list envelope. */
export const NextCursor = z.string().max(MAX_CURSOR_LENGTH).nullable();

/** A page of at most MAX_PAGE_LIMIT items. */
export const pageItems = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_PAGE_LIMIT);

/**
 * Opaque list cursors: base64url JSON of the last row's sort key. Clients pass them back
 * verbatim; a cursor that does not decode to the expected shape is a 400, never a 500.
 */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor<T extends readonly unknown[]>(
  cursor: string,
  isValid: (values: unknown[]) => values is unknown[] & T,
): T {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (!Array.isArray(values) || !isValid(values)) {
    throw new AppError('VALIDATION_FAILED', 'The cursor is not valid; start again without it', {
      errors: [{ path: 'query.cursor', message: 'Invalid cursor', code: 'invalid_cursor' }],
    });
  }
  return values;
}

/** `?limit`: default 50, above 200 clamped to 200 (API.md "Lists"). */
export const clampLimit = (limit: number | undefined): number =>
  Math.min(Math.max(limit ?? DEFAULT_PAGE_LIMIT, 1), MAX_PAGE_LIMIT);

/** `?limit` (default 50, above 200 clamped to 200) and an opaque `?cursor`, as API.md says. */
export const PageQuery = {
  limit: z
    .string()
    .regex(/^[1-9]\d{0,5}$/, 'must be a positive integer')
    .max(6)
    .transform((value) => Math.min(Number(value), MAX_PAGE_LIMIT))
    .optional()
    .openapi({ description: 'Page size (default 50; values above 200 are clamped to 200)' }),
  cursor: z
    .string()
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page' }),
};

const isIdKey = (values: unknown[]): values is [string] =>
  values.length === 1 && typeof values[0] === 'string' && UUID_PATTERN.test(values[0]);

/** The id in a cursor of a list ordered by UUIDv7 id (time order). */
export function decodeIdCursor(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : decodeCursor(cursor, isIdKey)[0];
}

/** The cursor after `row` in a list ordered by id. */
export const idCursor = (id: string): string => encodeCursor([id]);

/** The cursor after a page fetched with `limit + 1` rows ordered by id, when more exist. */
export function nextIdCursor(rows: readonly { id: string }[], limit: number): string | null {
  const last = rows[limit - 1];
  return rows.length > limit && last ? idCursor(last.id) : null;
}

/** `{data, nextCursor}` from a query that fetched `limit + 1` rows ordered by id. */
export function toIdPage<Row extends { id: string }, Item>(
  rows: Row[],
  limit: number,
  present: (row: Row) => Item,
): { data: Item[]; nextCursor: string | null } {
  return { data: rows.slice(0, limit).map(present), nextCursor: nextIdCursor(rows, limit) };
}

/** The list envelope's OpenAPI schema. */
export const pageSchema = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ data: pageItems(item), nextCursor: NextCursor }).meta({ id });
