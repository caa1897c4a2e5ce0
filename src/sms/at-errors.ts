import type { Recipient } from './at-wire.js';

/**
 * What one SMS send came to:
 * - `accepted`: AT took it for delivery (100 Processed, 101 Sent, 102 Queued); the delivery
 *   report says later whether the phone got it;
 * - `retryable`: nothing final happened (HTTP 5xx/429, timeout, network; AT's own 500/501
 *   and per-recipient holds that clear: RiskHold, InsufficientBalance, CouldNotRoute);
 * - `refused`: this message to this number will never go (bad credentials or sender id,
 *   invalid or unsupported number, blacklisted, do-not-disturb, rejected by the gateway).
 */
export type SmsOutcome =
  | { kind: 'accepted'; messageId: string; statusCode: number; status: string; cost: string }
  | {
      kind: 'retryable';
      reason: 'timeout' | 'network' | 'http' | 'recipient' | 'unreadable';
      httpStatus?: number;
      statusCode?: number;
      message: string;
    }
  | { kind: 'refused'; httpStatus?: number; statusCode?: number; message: string };

const ACCEPTED = new Set([100, 101, 102]);
const RETRYABLE = new Set([401, 405, 407, 500, 501]);

export function classifyRecipient(recipient: Recipient): SmsOutcome {
  const { statusCode, status, messageId, cost } = recipient;
  if (ACCEPTED.has(statusCode)) return { kind: 'accepted', messageId, statusCode, status, cost };
  if (RETRYABLE.has(statusCode)) {
    return { kind: 'retryable', reason: 'recipient', statusCode, message: status };
  }
  return { kind: 'refused', statusCode, message: status };
}

/** A non-201 HTTP answer: 401 (credentials) and other 4xx are final; 5xx/429/408 are not. */
export function classifyHttp(httpStatus: number, text: string): SmsOutcome {
  const message = text.trim().slice(0, 200) || `HTTP ${httpStatus}`;
  if (httpStatus >= 500 || httpStatus === 429 || httpStatus === 408) {
    return { kind: 'retryable', reason: 'http', httpStatus, message };
  }
  return { kind: 'refused', httpStatus, message };
}
