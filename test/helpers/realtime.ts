import { sql } from 'drizzle-orm';
import { WebSocket } from 'ws';
import type { AppDeps } from '../../src/deps.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { eventually } from './jobs.js';

/** A message from `GET /realtime`: an event (`id`, `type`, `timestamp`, `data`) or a control message. */
export interface LiveMessage {
  type: string;
  id?: string;
  lastEventId?: string;
  timestamp?: string;
  data?: Record<string, unknown>;
}

export interface LiveClient {
  ws: WebSocket;
  /** Every message so far, in arrival order. */
  messages: LiveMessage[];
  /** Events only (messages with an `id`). */
  events: () => LiveMessage[];
  /** Resolves with the close code once the server (or the client) closed the socket. */
  closed: Promise<number>;
  send: (message: unknown) => void;
  /** Waits for a message matching `match` (already received or still to come). */
  waitFor: (
    match: (message: LiveMessage) => boolean,
    what?: string,
    timeoutMs?: number,
  ) => Promise<LiveMessage>;
  close: () => void;
}

/** Opens a raw socket to `<base>/realtime` (no auth sent yet). */
export async function openSocket(base: string): Promise<LiveClient> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/realtime`);
  const messages: LiveMessage[] = [];
  ws.on('message', (data: Buffer) =>
    messages.push(JSON.parse(data.toString('utf8')) as LiveMessage),
  );
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  return {
    ws,
    messages,
    events: () => messages.filter((message) => message.id !== undefined),
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    waitFor: (match, what = 'a message', timeoutMs = 20_000) =>
      eventually(
        () => {
          const found = messages.find(match);
          if (found) return found;
          if (isClosed) throw new Error(`socket closed while waiting for ${what}`);
          return undefined;
        },
        timeoutMs,
        what,
      ),
    close: () => ws.close(),
  };
}

/** Opens a socket and authenticates with `token`; resolves once the server said `ready`. */
export async function connectLive(
  base: string,
  token: string,
  options: { lastEventId?: string } = {},
): Promise<LiveClient> {
  const client = await openSocket(base);
  client.send({ type: 'auth', accessToken: token });
  if (options.lastEventId !== undefined) {
    client.send({ type: 'resume', lastEventId: options.lastEventId });
  }
  await client.waitFor((message) => message.type === 'ready', 'ready');
  if (options.lastEventId !== undefined) {
    await client.waitFor((message) => message.type === 'resumed', 'resumed');
  }
  return client;
}

/**
 * Writes `count` events straight to the outbox, each in its own transaction, `parallel` at a
 * time, a random few holding their transaction open a while so that commit order differs
 * from id order (late commits are what the event sequence exists for).
 */
export async function writeEvents(
  deps: AppDeps,
  businessId: string,
  count: number,
  options: {
    type?: string;
    parallel?: number;
    payload?: (n: number) => Record<string, unknown>;
    lateCommits?: boolean;
  } = {},
): Promise<void> {
  const parallel = options.parallel ?? 8;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await deps.db.transaction(async (tx) => {
        await writeOutbox(tx, {
          kind: 'event',
          type: options.type ?? 'product.updated',
          businessId,
          payload: options.payload?.(n) ?? { n },
        });
        if (options.lateCommits !== false && n % 17 === 0) {
          await tx.execute(sql`select pg_sleep(0.05)`);
        }
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** The `n` of each event (writeEvents' default payload), in received order. */
export const numbersOf = (events: LiveMessage[]) =>
  events.map((event) => (event.data as { n: number }).n);
