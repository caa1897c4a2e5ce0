import { OVERLAPPED_DATA, SUCCESS } from './codes.js';

/**
 * What one OSCU call came to, for a worker to act on:
 * - `success`: KRA took it (`000`), with the answer's data;
 * - `duplicate`: `994` "There is an overlapped Data": KRA already holds this invoice (or
 *   stock record), typically from an earlier attempt whose answer was lost. Done, not failed;
 *   the spec's 994 answer carries no signature;
 * - `retryable`: nothing known was decided (HTTP 5xx/429, timeout, network, an unreadable
 *   answer, KRA's own server errors): send the same request again later;
 * - `refused`: KRA will never accept this request as it is (validation and device codes);
 *   `resultCd`/`resultMsg` are KRA's, to show to a person.
 */
export type EtimsOutcome<T> =
  | { kind: 'success'; resultCd: typeof SUCCESS; resultMsg: string; data: T }
  | { kind: 'duplicate'; resultCd: typeof OVERLAPPED_DATA; resultMsg: string }
  | {
      kind: 'retryable';
      reason: 'timeout' | 'network' | 'http' | 'kra' | 'unreadable';
      status?: number;
      resultCd?: string;
      message: string;
    }
  | { kind: 'refused'; resultCd: string; resultMsg: string; status?: number };

/**
 * KRA's server-side codes that say the server failed rather than the request (§4.18:
 * "error during registration/modification/deletion", "unknown error", "maximum number of
 * views exceeded", and 922 "sales invoice data can be received after receiving the sales
 * data", an ordering that clears once the sale is in).
 */
const RETRYABLE_RESULT_CODES = new Set(['922', '990', '991', '992', '993', '999']);

/** Classifies an OSCU answer (HTTP status plus the parsed `resultCd`/`resultMsg`). */
export function classifyAnswer<T>(
  status: number,
  resultCd: string,
  resultMsg: string,
  data: T,
): EtimsOutcome<T> {
  if (status >= 500 || status === 429 || status === 408) {
    return { kind: 'retryable', reason: 'http', status, message: `HTTP ${status}` };
  }
  if (status !== 200) return { kind: 'refused', resultCd: `HTTP ${status}`, resultMsg, status };
  if (resultCd === SUCCESS) return { kind: 'success', resultCd, resultMsg, data };
  if (resultCd === OVERLAPPED_DATA) return { kind: 'duplicate', resultCd, resultMsg };
  if (RETRYABLE_RESULT_CODES.has(resultCd)) {
    return { kind: 'retryable', reason: 'kra', resultCd, message: `${resultCd} ${resultMsg}` };
  }
  return { kind: 'refused', resultCd, resultMsg };
}
