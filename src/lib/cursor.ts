import { AppError } from './errors.js';

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
  Math.min(Math.max(limit ?? 50, 1), 200);
