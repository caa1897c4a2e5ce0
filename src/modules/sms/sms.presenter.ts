import type { SmsMessageRow } from '../../db/schema/index.js';
import type { SmsMessage } from './sms.schemas.js';

export function toSmsMessage(row: SmsMessageRow): SmsMessage {
  return {
    id: row.id,
    kind: row.kind,
    phone: row.phone,
    message: row.message,
    saleId: row.saleId,
    customerId: row.customerId,
    status: row.status,
    failureReason: row.failureReason,
    cost: row.cost,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
    sentAt: row.sentAt ? row.sentAt.toISOString() : null,
    deliveredAt: row.deliveredAt ? row.deliveredAt.toISOString() : null,
  };
}
