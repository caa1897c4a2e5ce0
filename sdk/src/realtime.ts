/**
 * Live updates (`GET /realtime`): one WebSocket that authenticates with its first message,
 * resumes from the last event it saw after every reconnect, and re-authenticates when the
 * access token is about to expire. Works in browsers and in Node ≥ 22 (global WebSocket);
 * on Node 20 pass `WebSocket` from the `ws` package.
 */

/** One event: the same `type`, `timestamp` and `data` as the webhook, plus the stream's `id`. */
export interface LiveEvent {
  /** Increasing decimal id; resume after it with `lastEventId`. */
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export type SubscriptionStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** The part of the WebSocket interface used here (browsers, Node ≥ 22, `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface SubscribeOptions {
  /** The API's base URL (`https://api.example.com`); the socket opens at `/realtime`. */
  baseUrl: string | (() => string);
  /**
   * The current access token. `refresh: true` when the server refused or is about to
   * expire the one given before: return a fresh one (refresh the pair) then.
   */
  getToken: (options: { refresh: boolean }) => string | Promise<string>;
  onEvent: (event: LiveEvent) => void;
  /** Resume after this id (e.g. the last one stored by a previous page load). */
  lastEventId?: string;
  onStatus?: (status: SubscriptionStatus) => void;
  /** A problem the subscription cannot get past by itself (it stops). */
  onError?: (error: Error) => void;
  /** Defaults to `globalThis.WebSocket`; on Node 20: `import { WebSocket } from 'ws'`. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect delays: full jitter between 0 and min(maxMs, initialMs × 2^attempt). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Re-authenticate this long before the access token's `exp` (default 30 s). */
  refreshBeforeExpiryMs?: number;
}

export interface Subscription {
  /** The id of the last event delivered (resume point), if any. */
  lastEventId: () => string | undefined;
  /** Sends a fresh token on the open socket (call after refreshing the pair yourself). */
  reauthenticate: () => Promise<void>;
  /** Closes the socket and stops reconnecting. */
  close: () => void;
}

/** Close codes the server uses (API.md "Live updates"). */
const UNAUTHENTICATED = 4401;
const POLICY_VIOLATION = 1008;
const OPEN = 1;

export function subscribe(options: SubscribeOptions): Subscription {
  const found = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!found) {
    throw new Error(
      'No WebSocket in this runtime (Node < 22): pass `WebSocket` from the `ws` package',
    );
  }
  const Socket: WebSocketConstructor = found;
  const initialMs = options.backoff?.initialMs ?? 500;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  const refreshBeforeMs = options.refreshBeforeExpiryMs ?? 30_000;
  let last = options.lastEventId;
  let socket: WebSocketLike | undefined;
  let stopped = false;
  let attempt = 0;
  let refreshNext = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;

  const status = (value: SubscriptionStatus) => options.onStatus?.(value);
  const fail = (error: Error) => {
    stop();
    options.onError?.(error);
  };

  const urlOf = () => {
    const base = typeof options.baseUrl === 'function' ? options.baseUrl() : options.baseUrl;
    const url = new URL('/realtime', base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  };

  const armRefresh = (token: string) => {
    clearTimeout(expiryTimer);
    const exp = expiryOf(token);
    if (exp === undefined) return;
    const wait = Math.max(1_000, exp - Date.now() - refreshBeforeMs);
    expiryTimer = setTimeout(() => void reauthenticate(true), wait);
  };

  const authenticate = async (ws: WebSocketLike, refresh: boolean) => {
    const token = await options.getToken({ refresh });
    if (ws !== socket || ws.readyState !== OPEN) return;
    ws.send(JSON.stringify({ type: 'auth', accessToken: token }));
    armRefresh(token);
  };

  const reauthenticate = async (refresh = false) => {
    if (socket?.readyState === OPEN) await authenticate(socket, refresh);
  };

  const scheduleReconnect = () => {
    if (stopped) return;
    status('reconnecting');
    const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
    attempt += 1;
    reconnectTimer = setTimeout(connect, Math.random() * ceiling);
  };

  const isNewer = (id: string) => last === undefined || BigInt(id) > BigInt(last);

  function connect() {
    if (stopped) return;
    status('connecting');
    const ws = new Socket(urlOf());
    socket = ws;
    ws.onopen = () => {
      const refresh = refreshNext;
      refreshNext = false;
      authenticate(ws, refresh)
        .then(() => {
          if (last !== undefined && ws === socket && ws.readyState === OPEN) {
            ws.send(JSON.stringify({ type: 'resume', lastEventId: last }));
          }
        })
        .catch((error: unknown) => {
          fail(error instanceof Error ? error : new Error(String(error)));
        });
    };
    ws.onmessage = (message) => {
      const text = typeof message.data === 'string' ? message.data : String(message.data);
      const parsed = JSON.parse(text) as Partial<LiveEvent> & { lastEventId?: string };
      if (parsed.id !== undefined) {
        // Ids increase; one already delivered (before a reconnect) is not delivered again.
        if (!isNewer(parsed.id)) return;
        last = parsed.id;
        options.onEvent(parsed as LiveEvent);
        return;
      }
      if (parsed.type === 'ready') {
        attempt = 0;
        // Nothing seen yet: from here on is what this subscription must not miss.
        if (last === undefined && parsed.lastEventId !== undefined) last = parsed.lastEventId;
        status('live');
      }
    };
    ws.onerror = () => undefined;
    ws.onclose = (event) => {
      if (ws !== socket) return;
      socket = undefined;
      clearTimeout(expiryTimer);
      if (stopped) return;
      if (event.code === POLICY_VIOLATION) {
        fail(new Error(`The server refused a message: ${event.reason}`));
        return;
      }
      // Expired or revoked: ask for a fresh token before the next attempt.
      if (event.code === UNAUTHENTICATED) refreshNext = true;
      scheduleReconnect();
    };
  }

  function stop() {
    stopped = true;
    clearTimeout(reconnectTimer);
    clearTimeout(expiryTimer);
    const ws = socket;
    socket = undefined;
    ws?.close(1000, 'bye');
    status('closed');
  }

  connect();
  return {
    lastEventId: () => last,
    reauthenticate: () => reauthenticate(false),
    close: stop,
  };
}

/** The `exp` of a JWT in milliseconds, if the token is one. */
function expiryOf(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** What `liveEvents()` returns: the `events` option of the offline kit's `createTill`. */
export interface LiveEventSource {
  /** Opens one subscription that calls `onEvent` for every event; `close()` it to stop. */
  subscribe(onEvent: (event: LiveEvent) => void): Subscription;
}

/**
 * `subscribe()` shaped as an event source: `createTill({ …, events: liveEvents({ baseUrl,
 * getToken }) })` keeps the till's catalog mirror live (a `product.*` / `inventory.*` /
 * `stock.*` event runs a delta). The subscription opens when the till starts listening and
 * closes with `till.close()`. All of `subscribe()`'s options but `onEvent` apply.
 */
export function liveEvents(options: Omit<SubscribeOptions, 'onEvent'>): LiveEventSource {
  return {
    subscribe: (onEvent) => subscribe({ ...options, onEvent }),
  };
}
