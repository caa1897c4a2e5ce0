import { z } from 'zod';
import {
  findPgError,
  isStatementTimeout,
  isTransientPgError,
  type PgErrorLike,
} from '../db/pg-errors.js';
import { AppError, PROBLEM_CODES, type FieldError, type ProblemCode } from '../lib/errors.js';
import { currentTraceId } from '../observability/trace-id.js';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  retryable: boolean;
  requestId: string;
  /** The OpenTelemetry trace of the request, when tracing is on. */
  traceId?: string;
  errors?: FieldError[];
}

export interface Problem {
  status: number;
  body: ProblemDocument;
  headers: Record<string, string>;
  /** True when the cause is unexpected and must be logged in full. */
  unexpected: boolean;
}

/**
 * Bounds of a problem document (declared in the OpenAPI Problem schema). Details and field
 * errors can echo client input (a path, an unknown key), so they are clipped, and a body
 * with thousands of bad fields gets the first 100 errors, not an answer larger than itself.
 */
export const PROBLEM_LIMITS = {
  detail: 1000,
  errors: 100,
  errorPath: 300,
  errorMessage: 500,
  errorCode: 64,
} as const;

const clip = (text: string, length: number) =>
  text.length > length ? text.slice(0, length) : text;

const boundedErrors = (errors: FieldError[]): FieldError[] =>
  errors.slice(0, PROBLEM_LIMITS.errors).map((error) => ({
    ...error,
    path: clip(error.path, PROBLEM_LIMITS.errorPath),
    message: clip(error.message, PROBLEM_LIMITS.errorMessage),
    code: clip(error.code, PROBLEM_LIMITS.errorCode),
  }));

export const problemType = (code: ProblemCode) =>
  `/errors/${code.toLowerCase().replace(/_/g, '-')}`;

/**
 * The only place an error becomes `application/problem+json` (RFC 9457). Nothing from a
 * library, SQL or a stack ever reaches the client: unknown errors become a generic 500.
 */
export function toProblem(error: unknown, requestId: string): Problem {
  const app = toAppError(error);
  const code = app?.code ?? 'INTERNAL';
  const spec = PROBLEM_CODES[code];
  const body: ProblemDocument = {
    type: problemType(code),
    title: spec.title,
    status: spec.status,
    code,
    detail: app
      ? clip(app.message, PROBLEM_LIMITS.detail)
      : 'An unexpected error occurred. Quote the request id when reporting it.',
    retryable: app ? app.retryable : true,
    requestId,
  };
  const traceId = currentTraceId();
  if (traceId) body.traceId = traceId;
  if (app?.errors?.length) body.errors = boundedErrors(app.errors);
  return {
    status: spec.status,
    body,
    headers: app?.headers ?? {},
    unexpected: !app || spec.status >= 500,
  };
}

/**
 * Per-item results of a batch answered 200 (e.g. `/sales/sync`), each failed item's error
 * turned into the problem document the single request would have answered: batch routes
 * hand their results here instead of mapping errors themselves.
 */
export function withProblemDocuments<T extends { error?: unknown }>(
  items: T[],
  requestId: string,
): (Omit<T, 'error'> & { error?: ProblemDocument })[] {
  return items.map(({ error, ...item }) =>
    error === undefined ? item : { ...item, error: toProblem(error, requestId).body },
  );
}

function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof z.ZodError) return fromZodError(error);
  const pgError = findPgError(error);
  if (pgError) return fromPgError(pgError);
  if (isHttpError(error)) return fromHttpError(error);
  return undefined;
}

export function fromZodError(error: z.ZodError, prefix: (string | number)[] = []): AppError {
  return new AppError(
    'VALIDATION_FAILED',
    'The request is not valid; see errors for each problem',
    {
      errors: zodIssuesToFieldErrors(error.issues, prefix),
    },
  );
}

export function zodIssuesToFieldErrors(
  issues: readonly z.core.$ZodIssue[],
  prefix: (string | number)[] = [],
): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    const base = [...prefix, ...issue.path.map(String)];
    // One entry per unknown field, so a client sees exactly which field to drop.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...base, key].join('.'),
        message: `Unknown field "${key}"`,
        code: issue.code,
      }));
    }
    return [{ path: base.join('.'), message: issue.message, code: issue.code }];
  });
}

interface HttpErrorLike {
  status: number;
  expose?: boolean;
  type?: string;
  message: string;
  headers?: Record<string, string | number>;
}

function isHttpError(error: unknown): error is HttpErrorLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

/** What @hapi/bourne (co-body's JSON parser, protoAction 'error') throws for `__proto__`. */
const PROTO_POISONING_MESSAGE = 'Object contains forbidden prototype property';

/** Errors thrown by Koa, the body parser and the rate limiter carry only a status. */
function fromHttpError(error: HttpErrorLike): AppError | undefined {
  const headers = Object.fromEntries(
    Object.entries(error.headers ?? {}).map(([name, value]) => [name, String(value)]),
  );
  switch (error.status) {
    case 400:
      // The parser refuses a `__proto__` member (prototype poisoning) before any schema
      // runs. The JSON is well-formed: it is an unknown field, as API.md classes it.
      if (error instanceof SyntaxError && error.message === PROTO_POISONING_MESSAGE) {
        return new AppError('VALIDATION_FAILED', 'The request is not valid; see errors', {
          errors: [
            { path: '__proto__', message: 'Unknown field "__proto__"', code: 'unrecognized_keys' },
          ],
        });
      }
      return error.type === 'entity.parse.failed' || error instanceof SyntaxError
        ? new AppError('MALFORMED_JSON', 'The request body is not valid JSON')
        : new AppError('VALIDATION_FAILED', 'The request could not be read');
    case 401:
      return new AppError('UNAUTHENTICATED', 'A valid bearer token is required');
    case 403:
      return new AppError('FORBIDDEN', 'Forbidden');
    case 404:
      return new AppError('NOT_FOUND', 'No such resource');
    case 405:
    case 501:
      return new AppError('METHOD_NOT_ALLOWED', 'This method is not allowed on this resource', {
        headers,
      });
    case 408:
      return new AppError('SERVICE_UNAVAILABLE', 'The request took too long to arrive', {
        retryable: true,
      });
    case 413:
      return new AppError(
        'PAYLOAD_TOO_LARGE',
        'The request body is larger than this endpoint accepts',
      );
    case 415:
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    case 429:
      return new AppError(
        'RATE_LIMITED',
        'Too many requests; retry after the time in Retry-After',
        {
          headers: pick(headers, [
            'Retry-After',
            'X-RateLimit-Limit',
            'X-RateLimit-Remaining',
            'X-RateLimit-Reset',
          ]),
        },
      );
    default:
      return undefined;
  }
}

function pick(record: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => (record[name] === undefined ? [] : [[name, record[name]] as const])),
  );
}

function fromPgError(error: PgErrorLike): AppError | undefined {
  if (error.code === '23505') {
    return new AppError('CONFLICT', 'A record with the same unique value already exists', {
      errors: error.constraint
        ? [
            {
              path: uniqueFieldFromConstraint(error.constraint),
              message: 'is already taken',
              code: 'unique',
            },
          ]
        : undefined,
    });
  }
  if (isStatementTimeout(error)) {
    return new AppError('SERVICE_UNAVAILABLE', 'The request took too long; retry shortly', {
      retryable: true,
    });
  }
  // The client should retry the same request.
  if (isTransientPgError(error)) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly', {
      retryable: true,
    });
  }
  return undefined;
}

/** `products_business_sku_unique` → `sku`: constraint names end with the field and a suffix. */
function uniqueFieldFromConstraint(constraint: string): string {
  const parts = constraint
    .split('_')
    .filter((part) => part !== 'unique' && part !== 'key' && part !== 'idx');
  return parts[parts.length - 1] ?? constraint;
}
