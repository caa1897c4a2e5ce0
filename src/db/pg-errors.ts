/**
 * What a failed database call was, read from the node-postgres error behind it. Drizzle
 * (and our own wrappers) wrap driver errors and keep them as `cause`: this is the one place
 * that walks that chain (a few levels at most, in case of a cycle).
 */
export interface PgErrorLike {
  code: string;
  constraint?: string;
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);

/** The PostgreSQL (or connection) error behind `error`, if there is one. */
export function findPgError(error: unknown): PgErrorLike | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as {
      code?: unknown;
      severity?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (
      typeof candidate.code === 'string' &&
      (candidate.severity !== undefined || CONNECTION_ERROR_CODES.has(candidate.code))
    ) {
      return candidate as PgErrorLike;
    }
    if (typeof candidate.message === 'string' && isPoolConnectionFailure(candidate.message)) {
      return { code: 'ECONNREFUSED' };
    }
    current = candidate.cause;
  }
  return undefined;
}

function isPoolConnectionFailure(message: string): boolean {
  return (
    message.includes('timeout exceeded when trying to connect') ||
    message.includes('Connection terminated') ||
    message.includes('Client has encountered a connection error')
  );
}

/** The unique constraint (or index) a write ran into (`23505`), or undefined. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  const pgError = findPgError(error);
  return pgError?.code === '23505' ? (pgError.constraint ?? '') : undefined;
}

/** PostgreSQL cancelled the statement: it ran past `statement_timeout`. */
export const isStatementTimeout = (pgError: PgErrorLike) => pgError.code === '57014';

/**
 * Connection loss, admin shutdown, too many connections, serialization and deadlock aborts,
 * a statement timeout: transient by nature, the same statement may succeed a moment later.
 */
export function isTransientPgError(pgError: PgErrorLike): boolean {
  const { code } = pgError;
  return (
    CONNECTION_ERROR_CODES.has(code) ||
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code === '53300' ||
    code === '40001' ||
    code === '40P01' ||
    isStatementTimeout(pgError)
  );
}

/** True when `error` is a transient database failure (see isTransientPgError). */
export function isTransientDatabaseError(error: unknown): boolean {
  const pgError = findPgError(error);
  return pgError !== undefined && isTransientPgError(pgError);
}
