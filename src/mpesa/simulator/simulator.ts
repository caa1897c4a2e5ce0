import { randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { darajaTimestamp, stkPassword } from '../daraja-time.js';
import { AppRegistry, type RegisteredApp } from './apps.js';
import { C2bDesk } from './c2b.js';
import { RESULTS, scenarioFor } from './scenarios.js';
import type { DarajaSimulator, SimulatedTransaction, SimulatorOptions } from './types.js';
import { badRequest, error, send, stkCallbackBody, text, type Json } from './wire.js';

export type { DarajaSimulator, SimulatedTransaction, SimulatorOptions } from './types.js';

/**
 * A Daraja stand-in speaking its wire format: OAuth (Basic auth; a new token invalidates
 * the previous one), STK push (Password checked), STK query ("being processed" error while
 * pending) and callbacks POSTed to CallBackURL after a delay. See scenarios.ts.
 */
export async function startDarajaSimulator(
  overrides: Partial<SimulatorOptions> & { port?: number; host?: string } = {},
): Promise<DarajaSimulator> {
  const options: SimulatorOptions = {
    consumerKey: 'simulator-consumer-key',
    consumerSecret: 'simulator-consumer-secret',
    shortcode: '174379',
    passkey: 'bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919',
    callbackDelayMs: 1_000,
    lateCallbackDelayMs: 11 * 60_000,
    noCallbackQueryPendingMs: 90_000,
    dropCallbacks: false,
    tokenTtlSeconds: 3600,
    c2bExternalValidation: true,
    c2bValidationTimeoutMs: 8_000,
    log: () => undefined,
    ...overrides,
  };
  const stats = { tokenRequests: 0, pushes: 0, queries: 0, callbacksSent: 0 };
  const transactions = new Map<string, SimulatedTransaction>();
  const requests: { path: string; body: Json }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const injected = new Map<string, { status: number; body: unknown }[]>();
  const apps = new AppRegistry(options.tokenTtlSeconds);
  apps.add(options);
  const c2b = new C2bDesk({
    externalValidation: options.c2bExternalValidation,
    validationTimeoutMs: options.c2bValidationTimeoutMs,
    log: options.log,
  });
  // GET (OAuth) carries Basic auth, not a token: its handler ignores the app.
  const placeholderApp: RegisteredApp = {
    consumerKey: '',
    consumerSecret: '',
    shortcodes: new Map(),
  };
  const shortcodesOf = (app: RegisteredApp) => new Set(app.shortcodes.keys());

  const handlers: Record<
    string,
    (req: IncomingMessage, body: Json, app: RegisteredApp) => [number, unknown]
  > = {
    'GET /oauth/v1/generate': (req) => {
      const url = new URL(req.url ?? '/', 'http://simulator');
      if (url.searchParams.get('grant_type') !== 'client_credentials') {
        return [400, error('400.008.02', 'Invalid grant type passed')];
      }
      const answer = apps.issueToken(req.headers.authorization);
      stats.tokenRequests = apps.tokenRequests;
      return answer;
    },
    'POST /mpesa/stkpush/v1/processrequest': (_req, body, app) => {
      const refused = checkCredentials(body, app);
      if (refused) return refused;
      const phone = text(body.PhoneNumber);
      const amount = Number(body.Amount);
      if (!Number.isInteger(amount) || amount < 1) return [400, badRequest('Amount')];
      if (!/^254[17]\d{8}$/.test(phone) || text(body.PartyA) !== phone)
        return [400, badRequest('PhoneNumber')];
      if (
        !['CustomerPayBillOnline', 'CustomerBuyGoodsOnline'].includes(String(body.TransactionType))
      )
        return [400, badRequest('TransactionType')];
      if (!/^\d{5,8}$/.test(text(body.PartyB))) return [400, badRequest('PartyB')];
      const callbackUrl = text(body.CallBackURL);
      if (!/^https?:\/\/\S+$/.test(callbackUrl)) return [400, badRequest('CallBackURL')];
      const reference = text(body.AccountReference);
      if (reference.length < 1 || reference.length > 12)
        return [400, badRequest('AccountReference')];
      if (text(body.TransactionDesc).length > 13) return [400, badRequest('TransactionDesc')];

      stats.pushes += 1;
      const scenario = scenarioFor(phone);
      const delay =
        scenario === 'late-callback'
          ? options.lateCallbackDelayMs
          : scenario === 'no-callback'
            ? options.noCallbackQueryPendingMs
            : options.callbackDelayMs;
      const transaction: SimulatedTransaction = {
        checkoutRequestId: `ws_CO_${darajaTimestamp(new Date())}${randomBytes(6).toString('hex')}`,
        merchantRequestId: `${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomUUID().slice(0, 8)}`,
        scenario,
        phone,
        amount,
        callbackUrl,
        receiptNumber: `S${randomBytes(6).toString('hex').toUpperCase().slice(0, 9)}`,
        resultAt: Date.now() + delay,
      };
      transactions.set(transaction.checkoutRequestId, transaction);
      if (scenario !== 'no-callback') {
        schedule(transaction, delay);
        if (scenario === 'duplicate-callback') schedule(transaction, delay + 100);
      }
      return [
        200,
        {
          MerchantRequestID: transaction.merchantRequestId,
          CheckoutRequestID: transaction.checkoutRequestId,
          ResponseCode: '0',
          ResponseDescription: 'Success. Request accepted for processing',
          CustomerMessage: 'Success. Request accepted for processing',
        },
      ];
    },
    'POST /mpesa/c2b/v1/registerurl': (_req, body, app) =>
      c2b.register(body, shortcodesOf(app), 'v1'),
    'POST /mpesa/c2b/v2/registerurl': (_req, body, app) =>
      c2b.register(body, shortcodesOf(app), 'v2'),
    'POST /mpesa/c2b/v1/simulate': (_req, body, app) => {
      const { answer, run } = c2b.simulate(body, shortcodesOf(app));
      if (run) setImmediate(() => void run());
      return answer;
    },
    'POST /mpesa/stkpushquery/v1/query': (_req, body, app) => {
      const refused = checkCredentials(body, app);
      if (refused) return refused;
      stats.queries += 1;
      const transaction = transactions.get(text(body.CheckoutRequestID));
      if (!transaction) return [400, badRequest('CheckoutRequestID')];
      if (Date.now() < transaction.resultAt) {
        return [
          500,
          error('500.001.1001', 'The transaction is being processed', body.CheckoutRequestID),
        ];
      }
      const result = RESULTS[transaction.scenario];
      return [
        200,
        {
          ResponseCode: '0',
          ResponseDescription: 'The service request has been accepted successsfully',
          MerchantRequestID: transaction.merchantRequestId,
          CheckoutRequestID: transaction.checkoutRequestId,
          ResultCode: String(result.code),
          ResultDesc: result.desc,
        },
      ];
    },
  };

  function checkCredentials(body: Json, app: RegisteredApp): [number, unknown] | undefined {
    const timestamp = text(body.Timestamp);
    const shortcode = text(body.BusinessShortCode);
    const passkey = app.shortcodes.get(shortcode);
    if (passkey === undefined) return [400, badRequest('BusinessShortCode')];
    if (!/^\d{14}$/.test(timestamp)) return [400, badRequest('Timestamp')];
    if (body.Password !== stkPassword(shortcode, passkey, timestamp)) {
      return [500, error('500.001.1001', 'Wrong credentials')];
    }
    return undefined;
  }

  function schedule(transaction: SimulatedTransaction, delay: number) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!options.dropCallbacks) void deliver(transaction);
    }, delay);
    timers.add(timer);
  }

  async function deliver(transaction: SimulatedTransaction) {
    const result = RESULTS[transaction.scenario];
    // The …0008 customer pays one shilling more than asked.
    const paid =
      transaction.scenario === 'amount-differs' ? transaction.amount + 1 : transaction.amount;
    const stkCallback = stkCallbackBody(transaction, result, paid, darajaTimestamp(new Date()));
    try {
      const response = await request(transaction.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Body: { stkCallback } }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body.text();
      stats.callbacksSent += 1;
      options.log(`callback ${transaction.checkoutRequestId} → ${response.statusCode}`);
    } catch (caught) {
      options.log(`callback ${transaction.checkoutRequestId} failed: ${(caught as Error).message}`);
    }
  }

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const route = `${req.method ?? 'GET'} ${path}`;
      let body: Json = {};
      try {
        body = raw ? (JSON.parse(raw) as Json) : {};
      } catch {
        send(res, 400, error('400.002.02', 'Bad Request - Invalid JSON'));
        return;
      }
      requests.push({ path, body });
      const forced = injected.get(path)?.shift();
      if (forced) {
        send(res, forced.status, forced.body);
        return;
      }
      const handler = handlers[route];
      if (!handler) {
        send(res, 404, error('404.001.01', 'Resource not found'));
        return;
      }
      const app =
        req.method === 'POST' ? apps.forBearer(req.headers.authorization) : placeholderApp;
      if (!app) {
        send(res, 404, error('404.001.03', 'Invalid Access Token'));
        return;
      }
      const [status, answer] = handler(req, body, app);
      options.log(`${route} → ${status}`);
      send(res, status, answer);
    });
  });

  // A taken port must reject (EADDRINUSE), not surface as an unhandled 'error' event.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(overrides.port ?? 0, overrides.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    options,
    stats,
    transactions,
    requests,
    invalidateTokens: () => apps.invalidateAll(),
    addApp: (app) => apps.add(app),
    c2b,
    payC2b: (params) => c2b.pay(params),
    deliverCallback: async (checkoutRequestId) => {
      const transaction = transactions.get(checkoutRequestId);
      if (!transaction) throw new Error(`no simulated transaction ${checkoutRequestId}`);
      await deliver(transaction);
    },
    failNext: (path, status, body) => {
      injected.set(path, [...(injected.get(path) ?? []), { status, body }]);
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
