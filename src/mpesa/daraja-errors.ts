import { AppError } from '../lib/errors.js';

/** Daraja's synchronous error body: `{requestId, errorCode, errorMessage}`. */
export interface DarajaErrorBody {
  requestId?: string;
  errorCode?: string;
  errorMessage?: string;
  ResponseCode?: string;
  ResponseDescription?: string;
  CustomerMessage?: string;
}

export const INVALID_TOKEN_CODE = '404.001.03';

export function isInvalidToken(status: number, body: DarajaErrorBody | undefined): boolean {
  return status === 401 || body?.errorCode === INVALID_TOKEN_CODE;
}

/** STK query's "still pending" answer is an error body (500.001.1001 "…being processed"). */
export function isBeingProcessed(body: DarajaErrorBody | undefined): boolean {
  return body?.errorCode === '500.001.1001' && /being processed/i.test(body.errorMessage ?? '');
}

/**
 * Daraja's refusals in our problem codes. What clears up by itself (subscriber locked by a
 * prompt already in progress, spike arrest, quota, 5xx, timeouts) is 503 and retryable; a
 * request M-Pesa will never accept (invalid phone, amount, reference) is 422 and not;
 * our own credentials or shortcode being refused is 502 (an operator must fix it).
 */
export function toDarajaProblem(
  status: number,
  body: DarajaErrorBody | undefined,
  what = 'the payment request',
): AppError {
  const code = body?.errorCode ?? body?.ResponseCode ?? '';
  const message = body?.errorMessage ?? body?.ResponseDescription ?? body?.CustomerMessage ?? '';
  const text = message.toLowerCase();
  const cause = new Error(`Daraja ${status} ${code} ${message}`.trim());

  if (text.includes('already in process') || text.includes('unable to lock subscriber')) {
    return new AppError(
      'SERVICE_UNAVAILABLE',
      'An M-Pesa prompt is already in progress for this phone; try again in a minute',
      { retryable: true, headers: { 'Retry-After': '60' }, cause },
    );
  }
  if (
    code.startsWith('500.003') ||
    text.includes('spike arrest') ||
    text.includes('system is busy') ||
    text.includes('quota') ||
    status === 429
  ) {
    return new AppError('SERVICE_UNAVAILABLE', 'M-Pesa is busy; retry shortly', {
      retryable: true,
      headers: { 'Retry-After': '5' },
      cause,
    });
  }
  if (
    text.includes('wrong credentials') ||
    text.includes('merchant does not exist') ||
    code.startsWith('400.008') ||
    isInvalidToken(status, body) ||
    /invalid (businessshortcode|callbackurl|partyb|password|timestamp)/.test(text)
  ) {
    return new AppError(
      'BAD_GATEWAY',
      'M-Pesa refused this service’s credentials or settings; an operator has been alerted',
      { cause },
    );
  }
  if (status >= 500 || status === 0) {
    return new AppError('SERVICE_UNAVAILABLE', 'M-Pesa is unavailable; retry shortly', {
      retryable: true,
      cause,
    });
  }
  const detail = message.replace(/^bad request\s*-\s*/i, '') || 'the request was refused';
  return new AppError('UNPROCESSABLE', `M-Pesa refused ${what}: ${detail}`, {
    retryable: false,
    cause,
  });
}
