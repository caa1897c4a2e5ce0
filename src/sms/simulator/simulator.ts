import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { MESSAGING_PATH, RECIPIENT_STATUS, type RecipientStatusCode } from '../at-wire.js';

/**
 * How the simulated Africa's Talking behaves: `normal`; `slow` (answers after `delayMs`);
 * `down` (HTTP `status`); `failing` (every recipient gets `statusCode`, e.g. 500 or 405).
 */
export type SmsMode =
  | { kind: 'normal' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'down'; status: number }
  | { kind: 'failing'; statusCode: RecipientStatusCode };

/** A recipient number picks what happens to its message (like the Daraja simulator's phones). */
export const SMS_SCENARIOS: Record<
  string,
  { statusCode?: RecipientStatusCode; delivery?: { status: string; failureReason?: string } }
> = {
  '+254799000002': { delivery: { status: 'Failed', failureReason: 'AbsentSubscriber' } },
  '+254799000003': { delivery: { status: 'Rejected', failureReason: 'UserInBlackList' } },
  '+254799000405': { statusCode: 405 },
  '+254799000406': { statusCode: 406 },
  '+254799000409': { statusCode: 409 },
  '+254799000500': { statusCode: 500 },
};

export interface SmsSimulatorOptions {
  username: string;
  apiKey: string;
  /** Sender ids the account may use (besides none: the account default). */
  senderIds: string[];
  /** Where delivery reports are POSTed (AT: the dashboard's delivery report URL). */
  deliveryReportUrl?: string;
  deliveryDelayMs: number;
  mode: SmsMode;
  log: (message: string) => void;
}

export interface SimulatedSms {
  messageId: string;
  to: string;
  from: string | null;
  message: string;
  statusCode: number;
  status: string;
  cost: string;
  /** Delivery reports POSTed for this message, with the status the receiver answered. */
  reports: { status: string; answered?: number }[];
}

export interface SmsSimulator {
  url: string;
  port: number;
  options: SmsSimulatorOptions;
  messages: SimulatedSms[];
  setMode(mode: SmsMode): void;
  /** POSTs a delivery report for a message now (default: its scenario's final status). */
  sendDeliveryReport(
    messageId: string,
    report?: { status: string; failureReason?: string; retryCount?: number },
  ): Promise<number | undefined>;
  close(): Promise<void>;
}

const KENYAN_MOBILE = /^\+254[17]\d{8}$/;
const GSM = /^[\n\r\x20-\x7E£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà]*$/;

/** SMS parts: 160 GSM-7 characters (153 each when split), 70 otherwise (67 when split). */
export function smsParts(message: string): number {
  const [single, part] = GSM.test(message) ? [160, 153] : [70, 67];
  return message.length <= single ? 1 : Math.ceil(message.length / part);
}

/**
 * A local Africa's Talking SMS API: `POST /version1/messaging` (apiKey header, form body),
 * AT's JSON answer, and delivery reports POSTed as forms to the configured URL.
 */
export async function startSmsSimulator(
  overrides: Partial<SmsSimulatorOptions> & { port?: number; host?: string } = {},
): Promise<SmsSimulator> {
  const options: SmsSimulatorOptions = {
    username: 'sandbox',
    apiKey: 'simulator-api-key',
    senderIds: ['AFRICASTKNG'],
    deliveryDelayMs: 200,
    mode: { kind: 'normal' },
    log: () => undefined,
    ...overrides,
  };
  const messages: SimulatedSms[] = [];
  const timers = new Set<NodeJS.Timeout>();

  function later(ms: number, action: () => void) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== MESSAGING_PATH || req.method !== 'POST') {
      send(res, 404, 'Not Found');
      return;
    }
    const mode = options.mode;
    if (mode.kind === 'down') {
      send(res, mode.status, 'Service Unavailable');
      return;
    }
    if (req.headers.apikey !== options.apiKey) {
      send(res, 401, 'The supplied authentication is invalid');
      return;
    }
    const form = new URLSearchParams(raw);
    if (form.get('username') !== options.username) {
      send(res, 401, 'The supplied authentication is invalid');
      return;
    }
    const message = form.get('message') ?? '';
    const numbers = (form.get('to') ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    if (numbers.length === 0) return send(res, 400, 'Must have to in your request');
    if (message === '') return send(res, 400, 'Must have message in your request');
    const from = form.get('from');
    const answer = () => accept(numbers, message, from || null, mode);
    if (mode.kind === 'slow') later(mode.delayMs, () => send(res, 201, answer()));
    else send(res, 201, answer());
  }

  function accept(numbers: string[], message: string, from: string | null, mode: SmsMode) {
    const parts = smsParts(message);
    let total = 0;
    const recipients = numbers.map((number) => {
      const scenario = SMS_SCENARIOS[number];
      const statusCode: RecipientStatusCode = !KENYAN_MOBILE.test(number)
        ? 403
        : from !== null && !options.senderIds.includes(from)
          ? 402
          : mode.kind === 'failing'
            ? mode.statusCode
            : (scenario?.statusCode ?? 101);
      const sent = statusCode === 101;
      const cost = sent ? 0.8 * parts : 0;
      total += cost;
      const sms: SimulatedSms = {
        messageId: sent ? `ATXid_${randomBytes(16).toString('hex')}` : 'None',
        to: number,
        from,
        message,
        statusCode,
        status: RECIPIENT_STATUS[statusCode],
        cost: sent ? `KES ${cost.toFixed(4)}` : '0',
        reports: [],
      };
      messages.push(sms);
      if (sent && options.deliveryReportUrl) {
        later(options.deliveryDelayMs, () => void deliver(sms));
      }
      options.log(`SMS to ***${number.slice(-3)} → ${statusCode} ${sms.status}`);
      return {
        statusCode,
        number,
        status: sms.status,
        cost: sms.cost,
        messageId: sms.messageId,
      };
    });
    const sentCount = recipients.filter((r) => r.statusCode === 101).length;
    return {
      SMSMessageData: {
        Message: `Sent to ${sentCount}/${recipients.length} Total Cost: KES ${total.toFixed(4)}`,
        Recipients: recipients,
      },
    };
  }

  async function deliver(
    sms: SimulatedSms,
    report = SMS_SCENARIOS[sms.to]?.delivery ?? { status: 'Success' },
    retryCount = 0,
  ): Promise<number | undefined> {
    const url = options.deliveryReportUrl;
    if (!url) throw new Error('no deliveryReportUrl configured');
    const form = new URLSearchParams({
      id: sms.messageId,
      status: report.status,
      phoneNumber: sms.to,
      networkCode: '63902',
      retryCount: String(retryCount),
    });
    if (report.failureReason) form.set('failureReason', report.failureReason);
    const entry: SimulatedSms['reports'][number] = { status: report.status };
    sms.reports.push(entry);
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body.text();
      entry.answered = response.statusCode;
    } catch (caught) {
      options.log(`delivery report ${sms.messageId} failed: ${(caught as Error).message}`);
    }
    return entry.answered;
  }

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
      if (raw.length > 100_000) {
        send(res, 413, 'Payload Too Large');
        req.destroy();
      }
    });
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) =>
    server.listen(overrides.port ?? 0, overrides.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    options,
    messages,
    setMode: (mode) => {
      options.mode = mode;
    },
    sendDeliveryReport: async (messageId, report) => {
      const sms = messages.find((m) => m.messageId === messageId);
      if (!sms) throw new Error(`no simulated SMS ${messageId}`);
      return deliver(sms, report, report?.retryCount ?? 0);
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown) {
  if (res.headersSent || res.destroyed) return;
  const json = typeof body !== 'string';
  res.writeHead(status, { 'content-type': json ? 'application/json' : 'text/plain' });
  res.end(json ? JSON.stringify(body) : body);
}
