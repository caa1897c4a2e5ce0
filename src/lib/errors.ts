/**
 * The closed set of problem codes this API answers with. Clients branch on `code`, so a
 * code is never renamed or reused; add a new one instead. Listed in the OpenAPI document.
 */
export const PROBLEM_CODES = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON' },
  VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid credentials' },
  TOKEN_EXPIRED: { status: 401, title: 'Token expired' },
  SUBSCRIPTION_INACTIVE: { status: 402, title: 'Subscription inactive' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  CONFLICT: { status: 409, title: 'Conflict' },
  IDEMPOTENCY_REQUEST_IN_PROGRESS: { status: 409, title: 'Request in progress' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused' },
  TOTALS_MISMATCH: { status: 422, title: 'Totals mismatch' },
  UNPROCESSABLE: { status: 422, title: 'Unprocessable' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  INTERNAL: { status: 500, title: 'Internal error' },
  BAD_GATEWAY: { status: 502, title: 'Upstream failure' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CODES;
export const PROBLEM_CODE_LIST = Object.keys(PROBLEM_CODES) as ProblemCode[];

export interface FieldError {
  path: string;
  message: string;
  code: string;
}

export interface AppErrorExtras {
  errors?: FieldError[];
  /** Overrides the default (true for 408/429/5xx and IDEMPOTENCY_REQUEST_IN_PROGRESS). */
  retryable?: boolean;
  headers?: Record<string, string>;
  cause?: unknown;
}

/** Every error a handler or service means to answer with. Mapped in one place: http/problem.ts. */
export class AppError extends Error {
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly retryable: boolean;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ProblemCode,
    detail?: string,
    extras: AppErrorExtras = {},
  ) {
    super(detail ?? PROBLEM_CODES[code].title, { cause: extras.cause });
    this.name = 'AppError';
    this.status = PROBLEM_CODES[code].status;
    this.errors = extras.errors;
    this.retryable = extras.retryable ?? isRetryableByDefault(code, this.status);
    this.headers = extras.headers ?? {};
  }
}

export function isRetryableByDefault(code: ProblemCode, status: number): boolean {
  return (
    status === 408 || status === 429 || status >= 500 || code === 'IDEMPOTENCY_REQUEST_IN_PROGRESS'
  );
}

export const notFound = (what = 'Resource') => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (detail = 'Your role does not allow this action') =>
  new AppError('FORBIDDEN', detail);
export const unauthenticated = (detail = 'A valid bearer token is required') =>
  new AppError('UNAUTHENTICATED', detail);
export const unprocessable = (detail: string, errors?: FieldError[]) =>
  new AppError('UNPROCESSABLE', detail, { errors });
export const conflict = (detail: string, field?: string) =>
  new AppError('CONFLICT', detail, {
    errors: field
      ? [{ path: field, message: `${field} is already taken`, code: 'unique' }]
      : undefined,
  });
export const validationFailed = (errors: FieldError[], detail = 'The request is not valid') =>
  new AppError('VALIDATION_FAILED', detail, { errors });
export const serviceUnavailable = (
  detail = 'A dependency is unavailable; retry shortly',
  cause?: unknown,
) => new AppError('SERVICE_UNAVAILABLE', detail, { cause });
