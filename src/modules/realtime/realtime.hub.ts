import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Config } from '../../config.js';
import { listenTo, type Listener } from '../../db/listen.js';
import type { AppDeps } from '../../deps.js';
import { AppError } from '../../lib/errors.js';
import { findAuthState } from '../auth/auth-lookup.repo.js';
import {
  realtimeDeliveryLag,
  realtimeDrops,
  realtimeMessages,
  trackConnections,
} from './realtime.metrics.js';
import { headSeq, readEvents, sessionStates, type StreamEvent } from './realtime.repo.js';
import { mayReceive, parseEventId, type Viewer } from './realtime.rules.js';
import { CLOSE, MAX_CLIENT_MESSAGE_BYTES, clientMessage } from './realtime.schemas.js';

/** The Redis channel the relays announce newly numbered events on (payload: the last id). */
export function realtimeChannel(config: Config): string {
  return `${config.redis.prefix}:realtime`;
}

/** Rows read per query, live and on resume. */
const PAGE = 500;
/** A closing socket that does not finish its close handshake within this is cut. */
const CLOSE_GRACE_MS = 5_000;
/** setTimeout's ceiling; a later expiry is re-armed when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Connection {
  ws: WebSocket;
  state: 'new' | 'open' | 'closed';
  viewer?: SocketViewer;
  expiresAtMs: number;
  timer?: NodeJS.Timeout;
  /** Messages are handled one after the other (an auth finishes before a resume starts). */
  inbox: Promise<void>;
  /** Every event this socket may see in (liveStart, lastSent] has been sent on it. */
  liveStart: number;
  lastSent: number;
  /** Replaying from PostgreSQL: live events are skipped (the replay reads them too). */
  replaying: boolean;
  alive: boolean;
}

type SocketViewer = Viewer & { sessionId: string };

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(new Uint8Array(data)).toString('utf8');
}

/** The viewer of an authenticated socket (every caller has checked `state === 'open'`). */
function viewerOf(conn: Connection): SocketViewer {
  if (!conn.viewer) throw new Error('realtime: socket is not authenticated');
  return conn.viewer;
}

export interface RealtimeServer {
  /** Open authenticated sockets. */
  connections: () => number;
  /** Looks for new events now (tests; the Redis message and the poll call it too). */
  pump: () => Promise<void>;
  /** Refuses new sockets and closes open ones with `code` (1012 at shutdown). */
  close: (code?: number) => Promise<void>;
}

/**
 * `GET /realtime`: the WebSocket of live updates (API.md "Live updates"). One per API
 * process; it reads newly numbered events from PostgreSQL when a relay announces them on
 * Redis (or every `pollMs` as a safety net), and hands each to the sockets of its business
 * whose role may see it.
 */
export async function startRealtime(
  server: http.Server,
  deps: AppDeps,
  options: { path?: string } = {},
): Promise<RealtimeServer> {
  const settings = deps.config.realtime;
  const logger = deps.logger.child({ component: 'realtime' });
  const path = options.path ?? '/realtime';
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const sockets = new Set<Connection>();
  const byBusiness = new Map<string, Set<Connection>>();
  let authenticated = 0;
  let closing = false;
  let head = await headSeq(deps.db);

  // --- sending -------------------------------------------------------------------------

  const closeWith = (conn: Connection, code: number, reason: string, drop?: string) => {
    if (conn.state === 'closed') return;
    unregister(conn);
    if (drop) realtimeDrops.inc({ reason: drop });
    conn.ws.close(code, reason);
    setTimeout(() => conn.ws.terminate(), CLOSE_GRACE_MS).unref();
  };

  const sendControl = (conn: Connection, message: Record<string, unknown>) => {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(message));
  };

  /** Queues a live event; a socket whose queue is over the bound is closed with 1013. */
  const sendLive = (conn: Connection, text: string): boolean => {
    if (conn.ws.readyState !== WebSocket.OPEN) return false;
    if (conn.ws.bufferedAmount > settings.maxBufferBytes) {
      closeWith(conn, CLOSE.tryAgainLater, 'too slow: reconnect and resume', 'slow_consumer');
      return false;
    }
    conn.ws.send(text);
    realtimeMessages.inc({ mode: 'live' });
    return true;
  };

  // --- live events ---------------------------------------------------------------------

  const serialise = (event: StreamEvent) =>
    JSON.stringify({
      id: String(event.seq),
      type: event.type,
      timestamp: new Date(event.createdAtMs).toISOString(),
      data: event.payload,
    });

  const dispatch = (event: StreamEvent) => {
    const audience = byBusiness.get(event.businessId);
    if (audience) {
      let text: string | undefined;
      for (const conn of audience) {
        if (conn.replaying || event.seq <= conn.lastSent || !conn.viewer) continue;
        conn.lastSent = event.seq;
        if (!mayReceive(conn.viewer, event)) continue;
        text ??= serialise(event);
        sendLive(conn, text);
      }
      if (text !== undefined) realtimeDeliveryLag.observe((Date.now() - event.createdAtMs) / 1000);
    }
    head = event.seq;
  };

  let pumping: Promise<void> | undefined;
  // Set by a wake-up that arrives while a pass runs: make another pass.
  const pumpState = { again: false };
  const runAgain = () => pumpState.again && !closing;
  let pumpFailing = false;
  const pump = (): Promise<void> => {
    if (pumping) {
      pumpState.again = true;
      return pumping;
    }
    pumping = (async () => {
      try {
        do {
          pumpState.again = false;
          for (;;) {
            const events = await readEvents(deps.db, { after: head, limit: PAGE });
            for (const event of events) dispatch(event);
            if (events.length < PAGE) break;
          }
        } while (runAgain());
        if (pumpFailing) logger.info('realtime: reading events again');
        pumpFailing = false;
      } catch (error) {
        if (!pumpFailing) logger.warn({ err: error }, 'realtime: cannot read events; will retry');
        pumpFailing = true;
      } finally {
        pumping = undefined;
      }
    })();
    return pumping;
  };

  // --- resume --------------------------------------------------------------------------

  const waitForDrain = async (conn: Connection): Promise<boolean> => {
    const deadline = Date.now() + 30_000;
    while (conn.state === 'open' && conn.ws.bufferedAmount > settings.maxBufferBytes / 2) {
      if (Date.now() > deadline) {
        closeWith(conn, CLOSE.tryAgainLater, 'too slow: reconnect and resume', 'slow_consumer');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return conn.state === 'open';
  };

  /**
   * Replays what the client missed after `lastEventId` from PostgreSQL, then goes live.
   * Live events are skipped meanwhile (the replay reads them: they are committed); the
   * replay ends only once its sends have drained and it has read at least as far as the
   * live stream has come, and the switch happens with no await in between, so nothing
   * falls in the gap. Events this socket already got live before the resume are not sent
   * again.
   */
  const resume = async (conn: Connection, after: number) => {
    const viewer = viewerOf(conn);
    if (after >= conn.liveStart) {
      // Nothing older than this socket's live stream is missing (the client may even be
      // ahead of this process: what it already has is not sent again).
      conn.lastSent = Math.max(conn.lastSent, after);
      sendControl(conn, { type: 'resumed', lastEventId: String(conn.lastSent) });
      return;
    }
    conn.replaying = true;
    let cursor = after;
    for (;;) {
      const snapshot = head;
      const events = await readEvents(deps.db, {
        after: cursor,
        limit: PAGE,
        businessId: viewer.businessId,
      });
      if (conn.state !== 'open') return;
      for (const event of events) {
        cursor = event.seq;
        const sentLive = event.seq > conn.liveStart && event.seq <= conn.lastSent;
        if (sentLive || !mayReceive(viewerOf(conn), event)) continue;
        conn.ws.send(serialise(event));
        realtimeMessages.inc({ mode: 'replay' });
      }
      // Everything up to `snapshot` was committed before a short read: all of it was seen.
      if (events.length < PAGE) cursor = Math.max(cursor, snapshot);
      // Drained before going live, not only between pages: a live event is held to the
      // buffer bound, and a replay still queued would close a reader that is keeping up.
      if (!(await waitForDrain(conn))) return;
      if (events.length < PAGE && head <= cursor) break;
    }
    conn.lastSent = Math.max(conn.lastSent, cursor);
    conn.liveStart = after;
    conn.replaying = false;
    sendControl(conn, { type: 'resumed', lastEventId: String(conn.lastSent) });
  };

  // --- authentication ------------------------------------------------------------------

  const verify = async (token: string) => {
    const claims = await deps.accessTokens.verify(token);
    const state = await findAuthState(deps.db, claims);
    const now = Date.now();
    if (
      !state ||
      state.userStatus !== 'active' ||
      state.sessionRevokedAt !== null ||
      state.sessionExpiresAt.getTime() <= now
    ) {
      throw new AppError('UNAUTHENTICATED', 'This session is no longer valid');
    }
    const exp = decodeJwt(token).exp;
    const tokenExpiresAtMs = typeof exp === 'number' ? exp * 1000 : now;
    return {
      viewer: {
        userId: claims.userId,
        businessId: claims.businessId,
        sessionId: claims.sessionId,
        role: state.role,
      },
      expiresAtMs: Math.min(tokenExpiresAtMs, state.sessionExpiresAt.getTime()),
    };
  };

  const armExpiry = (conn: Connection) => {
    clearTimeout(conn.timer);
    const wait = conn.expiresAtMs - Date.now();
    if (wait <= 0) {
      closeWith(conn, CLOSE.unauthenticated, 'token expired: refresh and authenticate', 'expired');
      return;
    }
    conn.timer = setTimeout(() => armExpiry(conn), Math.min(wait, MAX_TIMER_MS));
    conn.timer.unref();
  };

  const register = (conn: Connection) => {
    const viewer = viewerOf(conn);
    let set = byBusiness.get(viewer.businessId);
    if (!set) byBusiness.set(viewer.businessId, (set = new Set()));
    set.add(conn);
    authenticated += 1;
    conn.state = 'open';
  };

  function unregister(conn: Connection) {
    if (conn.state === 'closed') return;
    if (conn.state === 'open' && conn.viewer) {
      const set = byBusiness.get(conn.viewer.businessId);
      set?.delete(conn);
      if (set?.size === 0) byBusiness.delete(conn.viewer.businessId);
      authenticated -= 1;
    }
    conn.state = 'closed';
    clearTimeout(conn.timer);
    sockets.delete(conn);
  }

  const authenticate = async (conn: Connection, token: string) => {
    let verified: Awaited<ReturnType<typeof verify>>;
    try {
      verified = await verify(token);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const reason = error.code === 'TOKEN_EXPIRED' ? 'token expired' : 'not authenticated';
      closeWith(conn, CLOSE.unauthenticated, reason, 'unauthenticated');
      return;
    }
    if (conn.state === 'closed') return;
    if (conn.state === 'open') {
      // Re-auth after a token refresh: the new token replaces the old, for the same user.
      const current = viewerOf(conn);
      if (
        current.userId !== verified.viewer.userId ||
        current.businessId !== verified.viewer.businessId
      ) {
        closeWith(conn, CLOSE.policyViolation, 'a socket stays with one user', 'bad_message');
        return;
      }
      conn.viewer = verified.viewer;
      conn.expiresAtMs = verified.expiresAtMs;
      armExpiry(conn);
      sendControl(conn, { type: 'reauthenticated' });
      return;
    }
    const open = byBusiness.get(verified.viewer.businessId)?.size ?? 0;
    if (open >= settings.maxConnectionsPerBusiness) {
      closeWith(
        conn,
        CLOSE.tooManyConnections,
        'too many live connections for this business',
        'connection_limit',
      );
      return;
    }
    conn.viewer = verified.viewer;
    conn.expiresAtMs = verified.expiresAtMs;
    conn.liveStart = head;
    conn.lastSent = head;
    register(conn);
    armExpiry(conn);
    sendControl(conn, { type: 'ready', lastEventId: String(head) });
  };

  const handle = async (conn: Connection, data: RawData, isBinary: boolean) => {
    if (conn.state === 'closed') return;
    let parsed: unknown;
    try {
      parsed = isBinary ? undefined : JSON.parse(textOf(data));
    } catch {
      parsed = undefined;
    }
    const message = clientMessage.safeParse(parsed);
    if (!message.success) {
      closeWith(conn, CLOSE.policyViolation, 'not a valid message', 'bad_message');
      return;
    }
    if (message.data.type === 'auth') {
      await authenticate(conn, message.data.accessToken);
      return;
    }
    if (conn.state !== 'open') {
      closeWith(conn, CLOSE.policyViolation, 'authenticate first', 'bad_message');
      return;
    }
    const after = parseEventId(message.data.lastEventId);
    if (after === undefined || conn.replaying) {
      closeWith(conn, CLOSE.policyViolation, 'not a valid resume', 'bad_message');
      return;
    }
    await resume(conn, after);
  };

  const onConnection = (ws: WebSocket) => {
    const conn: Connection = {
      ws,
      state: 'new',
      expiresAtMs: 0,
      inbox: Promise.resolve(),
      liveStart: 0,
      lastSent: 0,
      replaying: false,
      alive: true,
    };
    sockets.add(conn);
    conn.timer = setTimeout(
      () => closeWith(conn, CLOSE.unauthenticated, 'authenticate first', 'unauthenticated'),
      settings.authTimeoutMs,
    );
    conn.timer.unref();
    ws.on('pong', () => (conn.alive = true));
    ws.on('error', () => undefined);
    ws.on('close', () => unregister(conn));
    ws.on('message', (data, isBinary) => {
      conn.inbox = conn.inbox
        .then(() => handle(conn, data, isBinary))
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'realtime: message failed; closing the socket');
          closeWith(conn, CLOSE.tryAgainLater, 'try again', 'error');
        });
    });
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, upgradeHead: Buffer) => {
    const url = req.url ?? '';
    const pathname = url.split('?')[0];
    if (pathname !== path || closing) {
      const status = closing ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, upgradeHead, onConnection);
  };
  server.on('upgrade', onUpgrade);

  // --- revocation and expiry -------------------------------------------------------------

  const recheck = async (conns: Connection[]) => {
    const open = conns.filter((conn) => conn.state === 'open');
    for (let start = 0; start < open.length; start += 1_000) {
      const chunk = open.slice(start, start + 1_000);
      const states = new Map(
        (
          await sessionStates(deps.db, [...new Set(chunk.map((conn) => viewerOf(conn).sessionId))])
        ).map((state) => [state.sessionId, state]),
      );
      const now = Date.now();
      for (const conn of chunk) {
        const viewer = viewerOf(conn);
        const state = states.get(viewer.sessionId);
        if (!state || state.revoked || state.userStatus !== 'active' || state.expiresAtMs <= now) {
          closeWith(conn, CLOSE.unauthenticated, 'session ended', 'revoked');
          continue;
        }
        // Read fresh, as on every REST request: a demotion applies to open sockets.
        conn.viewer = { ...viewer, role: state.role };
      }
    }
  };

  const onAuthChange = (payload: string) => {
    const [kind, id] = payload.split(':');
    const affected = [...sockets].filter(
      (conn) =>
        conn.viewer &&
        ((kind === 'session' && conn.viewer.sessionId === id) ||
          (kind === 'user' && conn.viewer.userId === id)),
    );
    if (affected.length > 0) {
      recheck(affected).catch((error: unknown) =>
        logger.warn({ err: error }, 'realtime: cannot re-check sessions'),
      );
    }
  };

  const listener: Listener = listenTo(
    deps.pool,
    ['realtime_auth'],
    (_channel, payload) => onAuthChange(payload),
    logger,
    // A revocation while this connection was down was not heard: re-check everyone.
    { onConnected: () => void recheck([...sockets]).catch(() => undefined) },
  );

  // --- fan-out wake-ups, heartbeats, safety nets -------------------------------------------

  const subscriber = new Redis(deps.config.redis.url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  subscriber.on('error', () => undefined);
  subscriber.on('ready', () => void pump());
  subscriber.on('message', () => void pump());
  subscriber.subscribe(realtimeChannel(deps.config)).catch(() => undefined);

  const timers = [
    setInterval(() => void pump(), settings.pollMs),
    setInterval(() => {
      for (const conn of sockets) {
        if (!conn.alive) {
          realtimeDrops.inc({ reason: 'heartbeat' });
          unregister(conn);
          conn.ws.terminate();
          continue;
        }
        conn.alive = false;
        conn.ws.ping();
      }
    }, settings.heartbeatMs),
    setInterval(() => {
      recheck([...sockets]).catch((error: unknown) =>
        logger.warn({ err: error }, 'realtime: cannot re-check sessions'),
      );
    }, settings.authRecheckMs),
  ];
  for (const timer of timers) timer.unref();
  const untrack = trackConnections(() => authenticated);

  return {
    connections: () => authenticated,
    pump,
    close: async (code = CLOSE.restarting) => {
      closing = true;
      for (const timer of timers) clearInterval(timer);
      const open = [...sockets].map((conn) => conn.ws);
      for (const conn of [...sockets]) {
        unregister(conn);
        conn.ws.close(code, 'server restarting: reconnect and resume');
      }
      const deadline = Date.now() + 2_000;
      while (open.some((ws) => ws.readyState !== WebSocket.CLOSED) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const ws of open) ws.terminate();
      server.off('upgrade', onUpgrade);
      untrack();
      subscriber.disconnect();
      await listener.close();
      await pumping;
    },
  };
}
