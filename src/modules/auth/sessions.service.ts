import type { AppDeps } from '../../deps.js';
import type { DbOrTx } from '../../db/client.js';
import { scopeFromTrustedRow } from '../../db/tenant-scope.js';
import { AppError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { recordAudit, type RequestMeta } from '../audit/audit.service.js';
import { getBusinessRow, presentBusiness, type BusinessRow } from '../business/business.service.js';
import { getUserRow, presentUser, type UserRow } from '../users/users.service.js';
import type { AuthSession } from './auth.schemas.js';
import { announceAuthChanges } from './auth-changes.js';
import { hashToken, newOpaqueToken, OPAQUE_TOKEN_PATTERN } from './opaque-token.js';
import {
  extendSession,
  findRefreshToken,
  insertRefreshToken,
  insertSession,
  lockRefreshToken,
  markRefreshTokenRotated,
  revokeSession,
  revokeSessionsOfUser,
} from './sessions.repo.js';

export interface IssuedSession {
  sessionId: string;
  refreshToken: string;
}

const invalidRefreshToken = () =>
  new AppError('UNAUTHENTICATED', 'The refresh token is not valid; sign in again');

const refreshExpiry = (deps: AppDeps, now: Date) =>
  new Date(now.getTime() + deps.config.auth.refreshTokenTtlSeconds * 1000);

/** Opens a session (a new refresh-token family) for the user, inside the caller's transaction. */
export async function startSession(
  tx: DbOrTx,
  deps: AppDeps,
  user: Pick<UserRow, 'id' | 'businessId'>,
  meta: RequestMeta,
  now: Date,
): Promise<IssuedSession> {
  const expiresAt = refreshExpiry(deps, now);
  const session = await insertSession(tx, {
    id: newId(),
    userId: user.id,
    businessId: user.businessId,
    ip: meta.ip,
    userAgent: meta.userAgent,
    createdAt: now,
    expiresAt,
  });
  const { token, hash } = newOpaqueToken();
  await insertRefreshToken(tx, {
    id: newId(),
    sessionId: session.id,
    userId: user.id,
    businessId: user.businessId,
    tokenHash: hash,
    expiresAt,
    createdAt: now,
  });
  return { sessionId: session.id, refreshToken: token };
}

/** The auth body of API.md: user, business, a signed access token and the refresh token. */
export async function toAuthSession(
  deps: AppDeps,
  user: UserRow,
  business: BusinessRow,
  issued: IssuedSession,
  now: Date,
): Promise<AuthSession> {
  const accessToken = await deps.accessTokens.sign(
    { userId: user.id, businessId: user.businessId, role: user.role, sessionId: issued.sessionId },
    now,
  );
  return {
    user: presentUser(user),
    business: presentBusiness(business),
    accessToken,
    refreshToken: issued.refreshToken,
    expiresIn: deps.accessTokens.ttlSeconds,
  };
}

type RotationOutcome =
  | { kind: 'rotated'; user: UserRow; business: BusinessRow; issued: IssuedSession }
  | { kind: 'reused'; sessionId: string };

/**
 * Exchanges a refresh token for a new pair. A token may be spent once; presented again
 * within REFRESH_REUSE_GRACE_SECONDS of being spent (two tabs refreshing at once) it gets
 * another fresh pair in the same family, so both callers stay signed in. Presented later,
 * it is treated as stolen: the whole family (the session) is revoked and the answer is 401.
 */
export async function refreshSession(
  deps: AppDeps,
  refreshToken: string,
  meta: RequestMeta,
): Promise<AuthSession> {
  if (!OPAQUE_TOKEN_PATTERN.test(refreshToken)) throw invalidRefreshToken();
  const now = deps.clock();
  const graceMs = deps.config.auth.refreshReuseGraceSeconds * 1000;
  const outcome = await deps.db.transaction(async (tx): Promise<RotationOutcome | undefined> => {
    const found = await lockRefreshToken(tx, hashToken(refreshToken));
    if (!found) return undefined;
    const { token } = found;
    if (
      found.sessionRevokedAt !== null ||
      found.userStatus !== 'active' ||
      token.expiresAt.getTime() <= now.getTime() ||
      found.sessionExpiresAt.getTime() <= now.getTime()
    ) {
      return undefined;
    }
    if (token.usedAt !== null && now.getTime() - token.usedAt.getTime() > graceMs) {
      await revokeSession(tx, token.sessionId, 'refresh_token_reuse', now);
      await recordAudit(
        tx,
        scopeFromTrustedRow(token),
        {
          actorUserId: null,
          action: 'auth.refresh_token_reused',
          targetType: 'session',
          targetId: token.sessionId,
          details: { userId: token.userId, spentAt: token.usedAt.toISOString() },
          meta,
        },
        now,
      );
      return { kind: 'reused', sessionId: token.sessionId };
    }
    const expiresAt = refreshExpiry(deps, now);
    const next = newOpaqueToken();
    const nextId = newId();
    await insertRefreshToken(tx, {
      id: nextId,
      sessionId: token.sessionId,
      userId: token.userId,
      businessId: token.businessId,
      tokenHash: next.hash,
      parentId: token.id,
      expiresAt,
      createdAt: now,
    });
    // A grace-window replay keeps the first spend time: the window never slides.
    await markRefreshTokenRotated(tx, token.id, {
      usedAt: token.usedAt ?? now,
      replacedById: nextId,
    });
    await extendSession(tx, token.sessionId, expiresAt);
    const scope = scopeFromTrustedRow(token);
    const user = await getUserRow(tx, scope, token.userId);
    const business = await getBusinessRow(tx, scope);
    if (!user) return undefined;
    return {
      kind: 'rotated',
      user,
      business,
      issued: { sessionId: token.sessionId, refreshToken: next.token },
    };
  });
  // The reuse verdict is thrown only after its transaction committed the revocation.
  if (outcome?.kind === 'reused') {
    await announceAuthChanges(deps, [{ kind: 'session', id: outcome.sessionId }]);
  }
  if (!outcome || outcome.kind === 'reused') throw invalidRefreshToken();
  return toAuthSession(deps, outcome.user, outcome.business, outcome.issued, now);
}

/** Logout: revokes the refresh token's session. Unknown tokens are ignored (no oracle). */
export async function endSession(
  deps: AppDeps,
  refreshToken: string,
  meta: RequestMeta,
): Promise<void> {
  if (!OPAQUE_TOKEN_PATTERN.test(refreshToken)) return;
  const token = await findRefreshToken(deps.db, hashToken(refreshToken));
  if (!token) return;
  const now = deps.clock();
  const revoked = await deps.db.transaction(async (tx) => {
    if (!(await revokeSession(tx, token.sessionId, 'logout', now))) return false;
    await recordAudit(
      tx,
      scopeFromTrustedRow(token),
      {
        actorUserId: token.userId,
        action: 'auth.logout',
        targetType: 'session',
        targetId: token.sessionId,
        meta,
      },
      now,
    );
    return true;
  });
  if (revoked) await announceAuthChanges(deps, [{ kind: 'session', id: token.sessionId }]);
}

/**
 * Revokes every session of a user (optionally but one); their access tokens fail at once.
 * The caller announces the change after commit (announceAuthChanges, `user`).
 */
export function revokeUserSessions(
  tx: DbOrTx,
  userId: string,
  reason: string,
  now: Date,
  exceptSessionId?: string,
): Promise<number> {
  return revokeSessionsOfUser(tx, userId, reason, now, exceptSessionId);
}
