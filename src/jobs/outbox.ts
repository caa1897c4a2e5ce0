import type { DbOrTx } from '../db/client.js';
import { outbox, type OutboxKind } from '../db/schema/index.js';
import { newId } from '../lib/ids.js';
import { traceCarrier } from '../observability/trace.js';

export interface OutboxMessage {
  kind: OutboxKind;
  /** Event type (`sale.created`), email template name or job name. */
  type: string;
  businessId: string | null;
  payload: Record<string, unknown>;
  /** Defaults to a new UUIDv7; pass one to make the write idempotent. */
  messageId?: string;
}

/**
 * Records work to do after the current transaction commits. Call it with the same `tx` as
 * the change that causes it: both commit or neither does, so nothing is lost or invented.
 */
export async function writeOutbox(
  tx: DbOrTx,
  messages: OutboxMessage | OutboxMessage[],
): Promise<void> {
  const list = Array.isArray(messages) ? messages : [messages];
  if (list.length === 0) return;
  // The worker's jobs for these rows continue this request's trace (src/observability/).
  const traceContext = traceCarrier();
  await tx
    .insert(outbox)
    .values(
      list.map((message) => ({
        messageId: message.messageId ?? newId(),
        kind: message.kind,
        type: message.type,
        businessId: message.businessId,
        payload: message.payload,
        traceContext,
      })),
    )
    // A caller-chosen messageId already written means this work is already promised.
    .onConflictDoNothing({ target: outbox.messageId });
}
