import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_TAX_RATES, type TaxRates } from '../codes.js';
import { invoiceKey, OscuState, type Caller, type OscuAnswer } from './oscu.js';

/**
 * How the simulated KRA behaves: `normal`; `slow` (answers after `delayMs`); `down` (HTTP
 * `status`, no OSCU answer); `accept-then-timeout` (does the work, records the invoice,
 * then holds the answer for `delayMs`, past any sane client timeout: the duplicate risk);
 * `refusing` (answers `resultCd`, e.g. 910, to every save without storing anything).
 */
export type OscuMode =
  | { kind: 'normal' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'down'; status: number }
  | { kind: 'accept-then-timeout'; delayMs: number }
  | { kind: 'refusing'; resultCd: '910' | '921' | '991' | '999'; detail?: string };

export interface OscuSimulatorOptions {
  /** Rates the tax-type code list announces; the spec's samples are at B = 18. */
  taxRates: TaxRates;
  /** Keys the opaque signatures: the same input gives the same signature. */
  secret: string;
  /** The mode of requests whose `tin` is not in `modeByPin`. */
  mode: OscuMode;
  /** A taxpayer PIN picks its own mode (development: the business's PIN picks the fault). */
  modeByPin: Record<string, OscuMode>;
  now: () => Date;
  log: (message: string) => void;
}

export interface OscuSimulator {
  url: string;
  /** Base URL of the API functions, as the client takes it (`…/etims-api`). */
  baseUrl: string;
  port: number;
  state: OscuState;
  options: OscuSimulatorOptions;
  setMode(mode: OscuMode): void;
  /** saveTrnsSalesOsdc requests received for this invoice, whatever was answered. */
  transmissions(tin: string, bhfId: string, invcNo: number): number;
  /** Every request, newest last. */
  requests: { path: string; headers: http.IncomingHttpHeaders; body: unknown }[];
  close(): Promise<void>;
}

export const SIMULATOR_PINS: Record<string, OscuMode> = {
  P000000001S: { kind: 'slow', delayMs: 5_000 },
  P000000002D: { kind: 'down', status: 503 },
  P000000003T: { kind: 'accept-then-timeout', delayMs: 120_000 },
  P000000004R: { kind: 'refusing', resultCd: '910', detail: 'simulated refusal' },
};

const MAX_BODY = 1_000_000;

/**
 * A local KRA eTIMS OSCU server speaking the OSCU Specification v2.0's JSON: POST
 * `/etims-api/<function>`, the `tin`/`bhfId`/`cmcKey` headers, result codes in a 200 body.
 */
export async function startOscuSimulator(
  overrides: Partial<OscuSimulatorOptions> & { port?: number; host?: string } = {},
): Promise<OscuSimulator> {
  const options: OscuSimulatorOptions = {
    taxRates: DEFAULT_TAX_RATES,
    secret: 'oscu-simulator',
    mode: { kind: 'normal' },
    modeByPin: SIMULATOR_PINS,
    now: () => new Date(),
    log: () => undefined,
    ...overrides,
  };
  const state = new OscuState(options.secret, options.taxRates, options.now);
  const counts = new Map<string, number>();
  const requests: OscuSimulator['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();

  const functions: Record<string, (caller: Caller, body: unknown) => OscuAnswer> = {
    saveItem: (caller, body) => state.saveItem(caller, body),
    saveTrnsSalesOsdc: (caller, body) => state.saveSale(caller, body),
    insertStockIO: (caller, body) => state.saveStockIo(caller, body),
    saveStockMaster: (caller, body) => state.saveStockMaster(caller, body),
  };

  function later(ms: number, action: () => void) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  }

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const name = /^\/etims-api\/([A-Za-z]+)$/.exec(path)?.[1] ?? '';
    if (name !== 'selectInitOsdcInfo' && !(name in functions)) {
      send(res, 404, { error: 'Not Found' });
      return;
    }
    if (req.method !== 'POST') {
      send(res, 200, state.answer('912'));
      return;
    }
    let body: unknown;
    try {
      body = raw.trim() ? JSON.parse(raw) : undefined;
    } catch {
      send(res, 200, state.answer('910', null, 'the body is not JSON'));
      return;
    }
    requests.push({ path, headers: req.headers, body });
    const caller = {
      tin: header(req, 'tin'),
      bhfId: header(req, 'bhfid'),
      cmcKey: header(req, 'cmckey'),
    };
    const bodyTin = (body as { tin?: unknown } | undefined)?.tin;
    const pin = caller.tin ?? (typeof bodyTin === 'string' ? bodyTin : '');
    const mode = options.modeByPin[pin] ?? options.mode;
    if (name === 'saveTrnsSalesOsdc') countTransmission(caller, body);

    if (mode.kind === 'down') {
      send(res, mode.status, 'Service Unavailable');
      return;
    }
    const answer = (): OscuAnswer => {
      if (body === undefined) return state.answer('911');
      if (name === 'selectInitOsdcInfo') return state.initialize(body);
      const refused = state.authenticate(caller);
      if (refused) return refused;
      if (mode.kind === 'refusing') return state.answer(mode.resultCd, null, mode.detail);
      const handler = functions[name];
      return handler ? handler(caller as Caller, body) : state.answer('912');
    };
    if (mode.kind === 'slow') {
      later(mode.delayMs, () => reply(res, name, answer()));
    } else if (mode.kind === 'accept-then-timeout') {
      const result = answer();
      later(mode.delayMs, () => reply(res, name, result));
    } else {
      reply(res, name, answer());
    }
  }

  function reply(res: ServerResponse, name: string, answer: OscuAnswer) {
    options.log(`${name} → ${answer.resultCd} ${answer.resultMsg}`);
    if (!res.destroyed) send(res, 200, answer);
  }

  function countTransmission(caller: Partial<Caller>, body: unknown) {
    const invcNo = (body as { invcNo?: unknown } | undefined)?.invcNo;
    if (!caller.tin || !caller.bhfId || typeof invcNo !== 'number') return;
    const key = invoiceKey(caller.tin, caller.bhfId, invcNo);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  const server = http.createServer((req, res) => {
    let raw = '';
    let size = 0;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      size += Buffer.byteLength(chunk);
      if (size > MAX_BODY) {
        send(res, 413, 'Payload Too Large');
        req.destroy();
        return;
      }
      raw += chunk;
    });
    req.on('end', () => handle(req, res, raw));
  });
  // A taken port rejects (EADDRINUSE) instead of an unhandled 'error' event, so `pnpm dev`
  // can share another checkout's simulator.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(overrides.port ?? 0, overrides.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseUrl: `${url}/etims-api`,
    port,
    state,
    options,
    requests,
    setMode: (mode) => {
      options.mode = mode;
    },
    transmissions: (tin, bhfId, invcNo) => counts.get(invoiceKey(tin, bhfId, invcNo)) ?? 0,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function send(res: ServerResponse, status: number, body: unknown) {
  if (res.headersSent) return;
  const json = typeof body !== 'string';
  res.writeHead(status, { 'content-type': json ? 'application/json' : 'text/plain' });
  res.end(json ? JSON.stringify(body) : body);
}
