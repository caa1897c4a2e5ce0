import { validationFailed } from './errors.js';
import { UUID_PATTERN } from './ids.js';
import { z } from './zod.js';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** `?limit` (default 50, above 200 clamped to 200) and an opaque `?cursor`, as API.md says. */
export const PageQuery = {
  limit: z
    .string()
    .regex(/^[1-9]\d{0,5}$/, 'must be a positive integer')
    .transform((value) => Math.min(Number(value), MAX_PAGE_LIMIT))
    .optional()
    .openapi({ description: 'Page size (default 50; values above 200 are clamped to 200)' }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page' }),
};

/**
 * Cursors for lists ordered by UUIDv7 id (newest first): the last id seen, base64url-encoded
 * so clients treat it as opaque. A cursor that does not decode to an id is a 400.
 */
export function decodeIdCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID_PATTERN.test(id)) {
    throw validationFailed([
      { path: 'query.cursor', message: 'Not a cursor from this list', code: 'invalid_cursor' },
    ]);
  }
  return id;
}

/** `{data, nextCursor}` from a query that fetched `limit + 1` rows. */
export function toIdPage<Row extends { id: string }, Item>(
  rows: Row[],
  limit: number,
  present: (row: Row) => Item,
): { data: Item[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(present),
    nextCursor:
      rows.length > limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null,
  };
}

/** The list envelope's OpenAPI schema. */
export const pageSchema = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() }).meta({ id });
