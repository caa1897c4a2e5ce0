import pg from 'pg';
import type { Logger } from '../lib/logger.js';

export interface Listener {
  close: () => Promise<void>;
}

export interface ListenOptions {
  /** Called after every (re)connection: a notification sent while disconnected was lost. */
  onConnected?: () => void;
  retryMs?: number;
}

/**
 * A dedicated PostgreSQL connection LISTENing on `channels` (a pooled connection cannot
 * hold a LISTEN). Reconnects after a loss; `onConnected` runs after each connection so the
 * caller can look for work it missed meanwhile.
 */
export function listenTo(
  pool: pg.Pool,
  channels: readonly string[],
  onNotify: (channel: string, payload: string) => void,
  logger: Logger,
  options: ListenOptions = {},
): Listener {
  const retryMs = options.retryMs ?? 1_000;
  const state = { closed: false };
  // Read through a call: `close()` may have run during the awaits above it.
  const isClosed = () => state.closed;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;

  const retry = () => {
    if (state.closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), retryMs);
  };

  const connect = async () => {
    if (state.closed) return;
    const next = new pg.Client({
      ...pool.options,
      application_name: `${pool.options.application_name ?? 'backend-api'}-listen`,
    });
    next.on('error', () => undefined);
    next.on('notification', (message) => onNotify(message.channel, message.payload ?? ''));
    next.on('end', () => {
      if (client !== next) return;
      client = undefined;
      retry();
    });
    try {
      await next.connect();
      for (const channel of channels) await next.query(`listen "${channel}"`);
      if (isClosed()) {
        await next.end();
        return;
      }
      client = next;
      if (failing) logger.info({ channels }, 'LISTEN connection restored');
      failing = false;
      options.onConnected?.();
    } catch (error) {
      if (!failing) logger.warn({ err: error, channels }, 'LISTEN connection failed; retrying');
      failing = true;
      await next.end().catch(() => undefined);
      retry();
    }
  };
  void connect();

  return {
    close: async () => {
      state.closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
