/** A field-level problem, as in the API's `errors` array. */
export interface ProblemFieldError {
  path: string;
  message: string;
  code: string;
}

/** The API's RFC 9457 problem document. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  retryable: boolean;
  requestId: string;
  errors?: ProblemFieldError[];
}

/**
 * Thrown for every non-2xx answer. `code` is stable (branch on it); `retryable` says
 * whether the same request may be sent again later; quote `requestId` in bug reports.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  readonly errors: ProblemFieldError[];
  /** Seconds from a Retry-After header, when the server sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly body: Partial<ProblemBody>,
    response: Response,
  ) {
    super(body.detail ?? body.title ?? `HTTP ${response.status}`);
    this.name = 'ProblemError';
    this.status = body.status ?? response.status;
    this.code = body.code ?? 'UNKNOWN';
    this.retryable =
      body.retryable ??
      (response.status === 408 || response.status === 429 || response.status >= 500);
    this.requestId = body.requestId ?? response.headers.get('x-request-id') ?? undefined;
    this.errors = body.errors ?? [];
    const retryAfter = Number(response.headers.get('retry-after'));
    this.retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  }
}

export function isProblemBody(value: unknown): value is Partial<ProblemBody> {
  return typeof value === 'object' && value !== null && 'code' in value && 'status' in value;
}
