import type { Context } from 'koa';
import type { DbOrTx } from '../../db/client.js';
import { auditLog } from '../../db/schema/index.js';
import type { TenantScope } from '../../db/tenant-scope.js';
import { newId } from '../../lib/ids.js';

/** Where a request came from, for the audit log and sessions. */
export interface RequestMeta {
  ip: string;
  userAgent: string | null;
}

/** The caller's address (proxy-aware only when TRUST_PROXY is set) and user agent, bounded. */
export function requestMetaOf(ctx: Pick<Context, 'ip' | 'get'>): RequestMeta {
  const userAgent = ctx.get('user-agent');
  return { ip: ctx.ip, userAgent: userAgent ? userAgent.slice(0, 512) : null };
}

export interface AuditEntry {
  actorUserId: string | null;
  action: string;
  targetType: 'user' | 'business' | 'invite' | 'session';
  targetId: string | null;
  details?: Record<string, unknown>;
  meta: RequestMeta;
}

/** Appends one audit row; call it with the transaction of the change it records. */
export async function recordAudit(
  tx: DbOrTx,
  scope: TenantScope,
  entry: AuditEntry,
  at: Date,
): Promise<void> {
  await tx.insert(auditLog).values({
    id: newId(),
    businessId: scope.businessId,
    actorUserId: entry.actorUserId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    details: entry.details ?? null,
    ip: entry.meta.ip,
    userAgent: entry.meta.userAgent,
    at,
  });
}
