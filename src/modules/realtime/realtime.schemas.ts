import { z } from '../../lib/zod.js';

/** Close codes of `GET /realtime` (API.md "Live updates"). */
export const CLOSE = {
  /** Server shutting down: reconnect (to another process) and resume. */
  restarting: 1012,
  /** The client read too slowly; its buffer overflowed. Reconnect and resume. */
  tryAgainLater: 1013,
  /** A message that is not valid here (bad JSON, unknown type, anything before auth). */
  policyViolation: 1008,
  /** No valid auth: missing, invalid, expired or revoked token, or a disabled user. */
  unauthenticated: 4401,
  /** The business already has the most sockets a process accepts. */
  tooManyConnections: 4429,
} as const;

/** The largest message a client may send (an auth message with a JWT fits easily). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

export const clientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auth'), accessToken: z.string().min(1).max(4096) }),
  z.strictObject({
    type: z.literal('resume'),
    lastEventId: z
      .string()
      .max(16)
      .regex(/^(0|[1-9][0-9]*)$/),
  }),
]);
export type ClientMessage = z.infer<typeof clientMessage>;
