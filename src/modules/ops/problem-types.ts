import {
  PROBLEM_CODES,
  PROBLEM_CODE_LIST,
  isRetryableByDefault,
  type ProblemCode,
} from '../../lib/errors.js';
import { problemType } from '../../http/problem.js';

/**
 * What each problem `type` URI (`/errors/<slug>`) tells a developer who follows it: when
 * the code is answered and what to do. Keyed by ProblemCode, so a new code cannot ship
 * without its description.
 */
const DESCRIPTIONS: Record<ProblemCode, string> = {
  BAD_REQUEST:
    'The request is not well-formed HTTP/1.1 (request line, headers or body framing such as two different Content-Length headers). Fix the client; sending it again unchanged fails again.',
  MALFORMED_JSON: 'The body is not valid JSON. Send a JSON document as application/json.',
  VALIDATION_FAILED:
    'The request does not match the operation’s schema. `errors` lists every problem with its path (`lines.0.quantity`, `query.limit`, `headers.idempotency-key`); fix those fields.',
  UNAUTHENTICATED:
    'No valid bearer token was sent. Sign in (POST /auth/login) and send `Authorization: Bearer <accessToken>`.',
  INVALID_CREDENTIALS: 'The email and password do not match an active user.',
  TOKEN_EXPIRED:
    'The access token has expired (they last 15 minutes). Call POST /auth/refresh with the refresh token and retry with the new access token; the SDK does this for you.',
  SUBSCRIPTION_INACTIVE:
    'The business’s subscription has ended: reads still work, writes are refused until it is paid (POST /bv-payments/subscription-stk-push).',
  FORBIDDEN: 'Your role does not allow this action, or the signed link is invalid or expired.',
  NOT_FOUND:
    'Nothing with this id exists for your business (another business’s ids answer the same), or no route has this path.',
  METHOD_NOT_ALLOWED:
    'The path exists but not with this method; the Allow header lists the methods it takes.',
  REQUEST_TIMEOUT:
    'The request head or body did not arrive in time (20 s for the head, 60 s for the whole request). Send it again.',
  CONFLICT:
    'The change conflicts with what is stored, e.g. a SKU, barcode or email already taken; `errors` names the field.',
  IDEMPOTENCY_REQUEST_IN_PROGRESS:
    'A request with the same Idempotency-Key (or clientRequestId) is still being handled. Retry after Retry-After seconds: you will get its answer.',
  PRECONDITION_FAILED:
    'The If-Match version no longer matches the stored one: someone changed it first. Read it again and re-apply your change.',
  PAYLOAD_TOO_LARGE:
    'The body is larger than the operation accepts (its `x-body-limit` in the OpenAPI document). Sending it again fails again: split it or shrink it. The connection is closed after this answer.',
  UNSUPPORTED_MEDIA_TYPE:
    'The body’s Content-Type (or an uploaded file’s content) is not one this operation takes: JSON bodies as application/json; images as JPEG, PNG or WebP in multipart/form-data.',
  IDEMPOTENCY_KEY_REUSED:
    'The Idempotency-Key (or clientRequestId) was already used with a different body. Use a new key for a new request.',
  TOTALS_MISMATCH:
    'The amounts do not add up (e.g. payments do not cover the sale total); `errors` names them.',
  UNPROCESSABLE:
    'The request is well-formed but a business rule refuses it (e.g. not enough stock, a sale already voided); `detail` says which.',
  RATE_LIMITED: 'Too many requests from your address. Wait Retry-After seconds.',
  HEADERS_TOO_LARGE:
    'The request line and headers are larger than the server accepts (16 KB). Send fewer or shorter headers.',
  INTERNAL:
    'Something failed on the server. It is logged with the request id: quote `requestId` when reporting it. Retrying later may succeed.',
  BAD_GATEWAY: 'A service the API depends on (e.g. M-Pesa) answered with an error. Retry later.',
  SERVICE_UNAVAILABLE:
    'A dependency (database, Redis, M-Pesa) is unavailable or the server is shutting down. Retry after Retry-After seconds, or shortly.',
};

export interface ProblemTypeDescription {
  type: string;
  code: ProblemCode;
  title: string;
  status: number;
  retryable: boolean;
  description: string;
}

const BY_SLUG = new Map<string, ProblemTypeDescription>(
  PROBLEM_CODE_LIST.map((code) => {
    const { status, title } = PROBLEM_CODES[code];
    const type = problemType(code);
    const description: ProblemTypeDescription = {
      type,
      code,
      title,
      status,
      retryable: isRetryableByDefault(code, status),
      description: DESCRIPTIONS[code],
    };
    return [type.slice('/errors/'.length), description];
  }),
);

export const findProblemType = (slug: string) => BY_SLUG.get(slug);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** A small self-contained page (no scripts, no external assets) for people who follow the link. */
export function problemTypePage(problem: ProblemTypeDescription): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(problem.code)} — ${escapeHtml(problem.title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; line-height: 1.5">
<h1>${escapeHtml(problem.title)}</h1>
<p><code>${escapeHtml(problem.code)}</code> · HTTP ${problem.status} · ${problem.retryable ? 'retryable' : 'not retryable'}</p>
<p>${escapeHtml(problem.description)}</p>
<p>Every error answer is an RFC 9457 problem document (<code>application/problem+json</code>) with this <code>type</code>, a stable <code>code</code>, <code>retryable</code> and the <code>requestId</code> to quote. See <a href="/docs">the API reference</a>.</p>
</body>
</html>`;
}
