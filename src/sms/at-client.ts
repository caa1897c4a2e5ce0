import { request } from 'undici';
import type { Logger } from '../lib/logger.js';
import { normalisePhone } from '../mpesa/phone.js';
import { classifyHttp, classifyRecipient, type SmsOutcome } from './at-errors.js';
import { maskPhone, MESSAGING_PATH, SendAnswer, toE164 } from './at-wire.js';

export interface AtClientOptions {
  /** AT_HOSTS.live / AT_HOSTS.sandbox, or the simulator's URL. */
  baseUrl: string;
  /** The AT app's username (`sandbox` on the sandbox). */
  username: string;
  apiKey: string;
  /** An approved alphanumeric sender id or shortcode; omitted: the account's default. */
  senderId?: string;
  timeoutMs: number;
  logger?: Logger;
}

/** One SMS at most this long (AT splits and bills longer texts; a receipt is far shorter). */
export const MAX_MESSAGE_LENGTH = 918;

/**
 * Africa's Talking SMS over its REST API. One recipient per call, so each message has its
 * own outcome and messageId. Never throws for AT's behaviour. Phone numbers never appear in
 * log lines (the last three digits do); message texts never do.
 */
export class AtSmsClient {
  constructor(private readonly options: AtClientOptions) {}

  async send(phone: string, message: string): Promise<SmsOutcome> {
    const msisdn = normalisePhone(phone);
    if (msisdn === null) return { kind: 'refused', message: 'not a Kenyan mobile number' };
    if (message.length === 0 || message.length > MAX_MESSAGE_LENGTH) {
      return { kind: 'refused', message: `a message has 1 to ${MAX_MESSAGE_LENGTH} characters` };
    }
    const to = toE164(msisdn);
    const outcome = await this.post(to, message);
    const log = { recipient: maskPhone(to), outcome: outcome.kind, ...details(outcome) };
    this.options.logger?.[outcome.kind === 'refused' ? 'warn' : 'info'](log, 'SMS send');
    return outcome;
  }

  private async post(to: string, message: string): Promise<SmsOutcome> {
    const { baseUrl, username, apiKey, senderId, timeoutMs } = this.options;
    const form = new URLSearchParams({ username, to, message });
    if (senderId) form.set('from', senderId);
    let status: number;
    let text: string;
    try {
      const response = await request(`${baseUrl}${MESSAGING_PATH}`, {
        method: 'POST',
        headers: {
          apiKey,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: form.toString(),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      const { name, message: text } = error as Error;
      const timedOut = name === 'TimeoutError' || /timeout/i.test(text);
      return { kind: 'retryable', reason: timedOut ? 'timeout' : 'network', message: text };
    }
    if (status !== 201 && status !== 200) return classifyHttp(status, text);
    const parsed = SendAnswer.safeParse(parseJson(text));
    const recipient = parsed.success ? parsed.data.SMSMessageData.Recipients[0] : undefined;
    if (!recipient) {
      // AT answers "Sent to 0/1" without a recipient for some refusals; nothing was sent.
      const summary = parsed.success ? parsed.data.SMSMessageData.Message : 'not an AT answer';
      return parsed.success
        ? { kind: 'refused', httpStatus: status, message: summary }
        : { kind: 'retryable', reason: 'unreadable', httpStatus: status, message: summary };
    }
    return classifyRecipient(recipient);
  }
}

function details(outcome: SmsOutcome) {
  switch (outcome.kind) {
    case 'accepted':
      return { messageId: outcome.messageId, statusCode: outcome.statusCode, cost: outcome.cost };
    case 'retryable':
      return {
        reason: outcome.reason,
        statusCode: outcome.statusCode,
        httpStatus: outcome.httpStatus,
      };
    case 'refused':
      return {
        statusCode: outcome.statusCode,
        httpStatus: outcome.httpStatus,
        detail: outcome.message,
      };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
