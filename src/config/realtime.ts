import { z } from 'zod';
import { defineArea, integer } from './area.js';

/** Live updates: the `GET /realtime` WebSocket (src/modules/realtime/). */
export const realtimeArea = defineArea({
  schema: z.object({
    REALTIME_HEARTBEAT_MS: integer(1_000, 300_000).default(30_000),
    REALTIME_AUTH_TIMEOUT_MS: integer(100, 120_000).default(10_000),
    REALTIME_MAX_BUFFER_BYTES: integer(16_384, 64 * 1024 * 1024).default(1024 * 1024),
    REALTIME_MAX_CONNECTIONS_PER_BUSINESS: integer(1, 100_000).default(500),
    REALTIME_POLL_MS: integer(100, 60_000).default(2_000),
    REALTIME_AUTH_RECHECK_MS: integer(1_000, 3_600_000).default(60_000),
  }),
  build: (env) => ({
    realtime: {
      /** A ping this often; a socket that did not answer the previous one is cut. */
      heartbeatMs: env.REALTIME_HEARTBEAT_MS,
      /** The first message (auth) must arrive within this. */
      authTimeoutMs: env.REALTIME_AUTH_TIMEOUT_MS,
      /** Bytes queued for one socket beyond which it is closed with 1013. */
      maxBufferBytes: env.REALTIME_MAX_BUFFER_BYTES,
      /** Open sockets per business, per API process. */
      maxConnectionsPerBusiness: env.REALTIME_MAX_CONNECTIONS_PER_BUSINESS,
      /** Safety net: new events are looked for this often even without a Redis wake-up. */
      pollMs: env.REALTIME_POLL_MS,
      /** Safety net: every socket's session and user are re-read this often. */
      authRecheckMs: env.REALTIME_AUTH_RECHECK_MS,
    },
  }),
});
