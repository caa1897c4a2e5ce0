import { createAuthFetch, type Tokens } from '../auth-fetch.js';
import { ProblemError, isProblemBody, type ProblemBody } from '../errors.js';
import type { components } from '../schema.js';
import {
  createCatalogMirror,
  isCatalogEvent,
  type CatalogMirror,
  type EventSource,
  type LiveEvent,
} from './catalog.js';
import type { DeadLetter, QueueKind, QueuedItem, TillStorage } from './storage.js';

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** A sale as POST /sales takes it; `clientRequestId`, `occurredAt` and `receiptNumber` are filled when absent. */
export type TillSale = Optional<
  components['schemas']['CreateSaleBody'],
  'clientRequestId' | 'occurredAt'
>;

/** POST /returns (API.md Part 2); `clientRequestId` and `occurredAt` are filled when absent. */
export interface TillReturn {
  clientRequestId?: string;
  /** The server's sale id… */
  saleId?: string;
  /**
   * …or, for a sale still in this till's queue, its clientRequestId: the kit sends the return
   * with the sale's server id once the sale is synced, and each line's `saleLineIndex` (its
   * position in the sale's `lines`) as the server's `saleLineId`.
   */
  saleClientRequestId?: string;
  occurredAt?: string;
  reason: string;
  lines: { saleLineId?: string; saleLineIndex?: number; quantity: number; restock?: boolean }[];
  refunds: { method: string; amount: number; reference?: string }[];
  shiftId?: string;
  locationId?: string;
  [field: string]: unknown;
}

/** POST /shifts; `id` (the till makes it) and `openedAt` are filled when absent. */
export interface TillShiftOpening {
  id?: string;
  register: string;
  openedAt?: string;
  openingFloat: number;
  locationId?: string;
  [field: string]: unknown;
}

/** POST /shifts/{id}/close; `closedAt` is filled when absent. */
export interface TillShiftClosing {
  closedAt?: string;
  countedCash: number;
  note?: string;
  [field: string]: unknown;
}

/** POST /customers/{id}/payments; `clientRequestId` and `occurredAt` are filled when absent. */
export interface TillCustomerPayment {
  clientRequestId?: string;
  amount: number;
  method: string;
  reference?: string;
  occurredAt?: string;
  shiftId?: string;
  [field: string]: unknown;
}

export interface TillOptions {
  baseUrl: string;
  getToken: () => string | undefined | Promise<string | undefined>;
  /** Enables the refresh of an expired access token (401 TOKEN_EXPIRED) before a retry. */
  getRefreshToken?: () => string | undefined | Promise<string | undefined>;
  /** Receives every new token pair from a refresh; store both (the old refresh token is spent). */
  onTokens?: (tokens: Tokens) => void | Promise<void>;
  /**
   * This till's name, unique among the business's devices (1–40 of `A-Z a-z 0-9 . _ -`). It
   * names the local database and prefixes every receipt number (`<deviceId>-<n>`).
   */
  deviceId: string;
  /** Default: IndexedDB (browsers). Node: `fileStorage(path)` from `@backend-api/sdk/offline/node`. */
  storage?: TillStorage;
  /** Sync by itself: after each record, when the browser comes online, and on a timer. Default true. */
  autoSync?: boolean;
  /** Sales per POST /sales/sync (1–100, default 100). */
  batchSize?: number;
  /** First retry delay in ms (default 1000), doubled per failure with jitter, capped at maxDelayMs (default 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Live events (the SDK's realtime `subscribe()`): catalog and stock events run a catalog delta. */
  events?: EventSource;
  /** A fetch implementation (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

export interface SyncedEvent {
  item: QueuedItem;
  status: 'created' | 'duplicate' | 'ok';
  /** The server's answer: the sale, return, shift or payment. */
  result: unknown;
}

export interface TillEvents {
  synced: SyncedEvent;
  rejected: DeadLetter;
  event: LiveEvent;
}

export interface SyncReport {
  /** Items the server answered that left the queue (created, duplicate, or dead letters). */
  synced: number;
  rejected: number;
  /** Still queued. */
  remaining: number;
  /** Why the run stopped early (a network error or a retryable problem), when it did. */
  error?: { message: string; retryable: boolean; retryInMs?: number };
}

export interface Till {
  readonly deviceId: string;
  /** Whether the browser granted persistent storage (never evicted under pressure). */
  readonly persisted: boolean;
  /** Resolves once the sale is durably queued on this device; never waits for the network. */
  recordSale(sale: TillSale): Promise<QueuedItem>;
  recordReturn(body: TillReturn): Promise<QueuedItem>;
  openShift(body: TillShiftOpening): Promise<QueuedItem>;
  closeShift(shiftId: string, body: TillShiftClosing): Promise<QueuedItem>;
  recordCustomerPayment(customerId: string, body: TillCustomerPayment): Promise<QueuedItem>;
  /** Replays the queue now (in this tab, or after the tab that is syncing finishes). */
  sync(): Promise<SyncReport>;
  pending(): Promise<QueuedItem[]>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Forgets dead letters once they have been dealt with. */
  dropDeadLetters(seqs: readonly number[]): Promise<void>;
  on<E extends keyof TillEvents>(event: E, listener: (payload: TillEvents[E]) => void): () => void;
  readonly catalog: CatalogMirror;
  close(): Promise<void>;
}

const DEVICE_ID = /^[A-Za-z0-9._-]{1,40}$/;
const MAX_BATCH = 100;

const uuid = (): string => globalThis.crypto.randomUUID();
const now = (): string => new Date().toISOString();

/** A failure that ends a sync run with the item(s) kept. */
class Halt extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

type ChannelMessage =
  | { type: 'recorded' }
  | { type: 'synced'; payload: SyncedEvent }
  | { type: 'rejected'; payload: DeadLetter };

/** What the kit uses of a browser's globals when they are there (not in Node). */
interface BrowserGlobals {
  navigator?: {
    storage?: { persist?: () => Promise<boolean> };
    locks?: { request<T>(name: string, run: () => Promise<T>): Promise<T> };
  };
  addEventListener?: (type: 'online', listener: () => void) => void;
  removeEventListener?: (type: 'online', listener: () => void) => void;
}

/**
 * The till on a given storage (`createTill` from `@backend-api/sdk/offline` defaults it to
 * IndexedDB). Every write lands in a durable local queue first and is replayed to the server
 * exactly once, in the order it was recorded. See the SDK README.
 */
export async function createTillOn(
  storage: TillStorage,
  options: Omit<TillOptions, 'storage'>,
): Promise<Till> {
  if (!DEVICE_ID.test(options.deviceId))
    throw new TypeError('deviceId: 1–40 characters of A-Z a-z 0-9 . _ -');
  const { deviceId } = options;
  const batchSize = Math.min(Math.max(options.batchSize ?? MAX_BATCH, 1), MAX_BATCH);
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  const autoSync = options.autoSync ?? true;
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const send = createAuthFetch({
    baseUrl: options.baseUrl,
    fetch: baseFetch,
    getToken: options.getToken,
    getRefreshToken: options.getRefreshToken,
    onTokens: options.onTokens,
  });

  const browser = globalThis as BrowserGlobals;
  const nav = browser.navigator;
  const persisted = (await nav?.storage?.persist?.().catch(() => false)) ?? false;

  // Listeners of this tab; the channel carries the syncing tab's news to the others.
  const listeners = new Map<keyof TillEvents, Set<(payload: never) => void>>();
  const emit = <E extends keyof TillEvents>(event: E, payload: TillEvents[E]) => {
    for (const listener of listeners.get(event) ?? []) {
      try {
        (listener as (payload: TillEvents[E]) => void)(payload);
      } catch {
        // A listener's failure is its own.
      }
    }
  };
  const channel =
    typeof BroadcastChannel === 'function'
      ? new BroadcastChannel(`backend-api-till:${deviceId}`)
      : undefined;
  const broadcast = (message: ChannelMessage) => channel?.postMessage(message);
  const tell = <E extends 'synced' | 'rejected'>(event: E, payload: TillEvents[E]) => {
    emit(event, payload);
    broadcast({ type: event, payload } as ChannelMessage);
  };

  // --- sync ---------------------------------------------------------------------------
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let running: Promise<SyncReport> | undefined;
  let rerun = false;

  const schedule = (ms: number) => {
    if (!autoSync || closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void sync();
    }, ms);
  };
  const backoffMs = (retryAfterMs?: number) => {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures, 20));
    return Math.max(ceiling / 2 + Math.random() * (ceiling / 2), retryAfterMs ?? 0);
  };

  const post = async (path: string, body: unknown, key?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key) headers['idempotency-key'] = key;
    let response: Response;
    try {
      response = await send(
        new Request(new URL(path, options.baseUrl), {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        }),
      );
    } catch (error) {
      throw new Halt(`network: ${(error as Error).message}`, true);
    }
    const data = (await response.json().catch(() => undefined)) as unknown;
    return { response, data };
  };

  /** A refused whole request: retryable → Halt; 401/403 → Halt (not the item's fault); else the problem. */
  const problemOf = (response: Response, data: unknown): ProblemError => {
    const problem = new ProblemError(isProblemBody(data) ? data : {}, response);
    if (problem.retryable)
      throw new Halt(
        `${problem.status} ${problem.code}`,
        true,
        problem.retryAfterSeconds ? problem.retryAfterSeconds * 1000 : undefined,
      );
    if (problem.status === 401 || problem.status === 403)
      throw new Halt(`${problem.status} ${problem.code}`, false);
    return problem;
  };

  const bury = async (item: QueuedItem, problem: Partial<ProblemBody>) => {
    const letter: DeadLetter = { ...item, problem, failedAt: now() };
    await storage.bury([letter]);
    tell('rejected', letter);
  };

  /**
   * The server ids of the sales this till synced last (oldest dropped past RECENT_SALES), so a
   * return recorded with a sale's clientRequestId finds them. Only the syncing tab writes it.
   */
  const SALE_IDS = 'recent-sale-ids';
  const RECENT_SALES = 500;
  type SaleIds = Record<string, { id: string; lineIds: string[] }>;

  const syncSales = async (batch: QueuedItem[], report: SyncReport) => {
    const { response, data } = await post('/sales/sync', { sales: batch.map((item) => item.body) });
    if (!response.ok) {
      // The envelope was refused (not any one sale): nothing leaves the queue.
      const problem = problemOf(response, data);
      throw new Halt(`${problem.status} ${problem.code}`, false);
    }
    const results = (data as { results?: components['schemas']['SyncSaleResult'][] }).results ?? [];
    const answered: { item: QueuedItem; status: 'created' | 'duplicate'; sale: unknown }[] = [];
    let retryLater: Halt | undefined;
    let rejectedHere = 0;
    for (const [index, item] of batch.entries()) {
      const result = results[index];
      // Purge exactly what the server answered, matched by position and id (a refused element
      // whose id the server could not echo comes back with null).
      if (!result) continue;
      const echoed =
        result.clientRequestId === item.key ||
        (result.clientRequestId === null && result.status === 'rejected');
      if (!echoed) continue;
      if (result.status === 'rejected') {
        const problem = (result.error ?? {}) as Partial<ProblemBody>;
        if (problem.retryable) {
          retryLater ??= new Halt(`sale ${item.key}: ${problem.code}`, true);
          continue;
        }
        await bury(item, problem);
        report.rejected += 1;
        rejectedHere += 1;
      } else {
        answered.push({ item, status: result.status, sale: result.sale });
      }
    }
    if (answered.length > 0) {
      const known = new Map(Object.entries((await storage.getValue<SaleIds>(SALE_IDS)) ?? {}));
      for (const { item, sale } of answered) {
        const ids = sale as { id: string; lines: { id: string }[] } | undefined;
        if (!ids) continue;
        const { id, lines } = ids;
        known.delete(item.key); // re-inserted last: the newest
        known.set(item.key, { id, lineIds: lines.map((line) => line.id) });
      }
      await storage.setValue(SALE_IDS, Object.fromEntries([...known].slice(-RECENT_SALES)));
    }
    await storage.remove(answered.map(({ item }) => item.seq));
    for (const { item, status, sale } of answered) tell('synced', { item, status, result: sale });
    report.synced += answered.length;
    if (retryLater) throw retryLater;
    // An answer that settles nothing (not the results of this batch) must not spin the loop.
    if (answered.length + rejectedHere === 0)
      throw new Halt('POST /sales/sync answered without results for this batch', true);
  };

  /** A return naming a queued sale: the sale's server ids put in, or a refusal when it never synced. */
  const resolveReturn = async (
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown> | Partial<ProblemBody>> => {
    const { saleClientRequestId, ...rest } = body;
    if (typeof saleClientRequestId !== 'string') return body;
    const ids = ((await storage.getValue<SaleIds>(SALE_IDS)) ?? {})[saleClientRequestId];
    if (!ids)
      return {
        status: 422,
        code: 'SALE_NOT_SYNCED',
        title: 'The sale of this return was not accepted',
        detail: `Sale ${saleClientRequestId} never reached the server (see the dead letters)`,
        retryable: false,
      };
    const lines = (rest.lines as { saleLineIndex?: number; saleLineId?: string }[]).map(
      ({ saleLineIndex, ...line }) =>
        saleLineIndex === undefined ? line : { ...line, saleLineId: ids.lineIds[saleLineIndex] },
    );
    return { ...rest, saleId: ids.id, lines };
  };

  const syncOne = async (item: QueuedItem, report: SyncReport) => {
    let body = item.body;
    if (item.kind === 'return') {
      const resolved = await resolveReturn(item.body);
      if ('code' in resolved && resolved.code === 'SALE_NOT_SYNCED') {
        await bury(item, resolved);
        report.rejected += 1;
        return;
      }
      body = resolved;
    }
    const { response, data } = await post(item.path, body, item.key);
    if (response.ok) {
      await storage.remove([item.seq]);
      tell('synced', { item, status: response.status === 201 ? 'created' : 'ok', result: data });
      report.synced += 1;
      return;
    }
    const problem = problemOf(response, data);
    await bury(
      item,
      problem.body.code ? problem.body : { status: problem.status, code: problem.code },
    );
    report.rejected += 1;
  };

  const drain = async (): Promise<SyncReport> => {
    const report: SyncReport = { synced: 0, rejected: 0, remaining: 0 };
    try {
      for (;;) {
        const queue = await storage.pending();
        const head = queue[0];
        if (!head || closed) break;
        if (head.kind === 'sale') {
          const batch: QueuedItem[] = [];
          for (const item of queue) {
            if (item.kind !== 'sale' || batch.length >= batchSize) break;
            batch.push(item);
          }
          await syncSales(batch, report);
        } else {
          await syncOne(head, report);
        }
        failures = 0;
      }
    } catch (error) {
      if (!(error instanceof Halt)) throw error;
      failures += 1;
      const retryInMs = error.retryable ? backoffMs(error.retryAfterMs) : undefined;
      report.error = { message: error.message, retryable: error.retryable, retryInMs };
      if (retryInMs !== undefined) schedule(retryInMs);
    }
    report.remaining = (await storage.pending()).length;
    return report;
  };

  /** One tab at a time (Web Locks); without them (Node), one run at a time in this process. */
  const exclusive = <T>(run: () => Promise<T>): Promise<T> => {
    const locks = nav?.locks;
    if (locks) return locks.request(`backend-api-till-sync:${deviceId}`, run);
    return run();
  };

  const sync = (): Promise<SyncReport> => {
    if (running) {
      rerun = true;
      return running;
    }
    running = (async () => {
      try {
        let report: SyncReport;
        do {
          rerun = false;
          report = await exclusive(drain);
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by a call during the await
        } while (rerun && !report.error && !closed);
        return report;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const kick = () => {
    if (autoSync && !closed && !timer) schedule(0);
  };

  // --- recording ----------------------------------------------------------------------
  const record = async (
    kind: QueueKind,
    path: string,
    key: string,
    body: Record<string, unknown>,
    receipt = false,
  ) => {
    const item = await storage.append(
      (_seq, n) => ({
        kind,
        key,
        path,
        body: n === undefined ? body : { ...body, receiptNumber: `${deviceId}-${n}` },
        recordedAt: now(),
      }),
      receipt ? 'receipt' : undefined,
    );
    broadcast({ type: 'recorded' });
    kick();
    return item;
  };

  channel?.addEventListener('message', (message) => {
    const data = (message as unknown as { data: ChannelMessage }).data;
    if (data.type === 'recorded') kick();
    else emit(data.type, data.payload as never);
  });

  const onOnline = () => {
    failures = 0;
    schedule(0);
  };
  browser.addEventListener?.('online', onOnline);

  // --- catalog ------------------------------------------------------------------------
  const catalog = createCatalogMirror({ storage, baseUrl: options.baseUrl, fetch: send });
  let stopEvents: (() => void) | undefined;
  if (options.events) {
    const stop = options.events.subscribe((event) => {
      emit('event', event);
      if (isCatalogEvent(event.type)) void catalog.refresh().catch(() => undefined);
    });
    stopEvents = typeof stop === 'function' ? stop : stop ? () => stop.close() : undefined;
  }

  kick();

  return {
    deviceId,
    persisted,
    recordSale: (sale) => {
      const body = {
        ...sale,
        clientRequestId: sale.clientRequestId ?? uuid(),
        occurredAt: sale.occurredAt ?? now(),
      };
      return record('sale', '/sales', body.clientRequestId, body, body.receiptNumber === undefined);
    },
    recordReturn: (input) => {
      if ((input.saleId === undefined) === (input.saleClientRequestId === undefined))
        return Promise.reject(
          new TypeError('recordReturn: give saleId or saleClientRequestId (one of them)'),
        );
      const body = {
        ...input,
        clientRequestId: input.clientRequestId ?? uuid(),
        occurredAt: input.occurredAt ?? now(),
      };
      return record('return', '/returns', body.clientRequestId, body);
    },
    openShift: (input) => {
      const body = { ...input, id: input.id ?? uuid(), openedAt: input.openedAt ?? now() };
      return record('shift.open', '/shifts', body.id, body);
    },
    closeShift: (shiftId, input) => {
      const body = { ...input, closedAt: input.closedAt ?? now() };
      return record('shift.close', `/shifts/${encodeURIComponent(shiftId)}/close`, uuid(), body);
    },
    recordCustomerPayment: (customerId, input) => {
      const body = {
        ...input,
        clientRequestId: input.clientRequestId ?? uuid(),
        occurredAt: input.occurredAt ?? now(),
      };
      return record(
        'customer.payment',
        `/customers/${encodeURIComponent(customerId)}/payments`,
        body.clientRequestId,
        body,
      );
    },
    sync,
    pending: () => storage.pending(),
    deadLetters: () => storage.deadLetters(),
    dropDeadLetters: (seqs) => storage.dropDeadLetters(seqs),
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    catalog,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      stopEvents?.();
      browser.removeEventListener?.('online', onOnline);
      channel?.close();
      await running?.catch(() => undefined);
      await storage.close();
    },
  };
}
