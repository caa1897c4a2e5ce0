import type { AppDeps } from '../../deps.js';
import { scopeFromTrustedRow } from '../../db/tenant-scope.js';
import { AppError, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { recordAudit, type RequestMeta } from '../audit/audit.service.js';
import { createTrialBusiness, getBusinessRow } from '../business/business.service.js';
import {
  createUserRecord,
  findAccountByEmail,
  findAccountById,
  setUserPassword,
} from '../users/users.service.js';
import type { AuthSession, LoginBody, RegisterBody } from './auth.schemas.js';
import { announceAuthChanges } from './auth-changes.js';
import { loginThrottleFor } from './login-throttle.js';
import { hashToken, newOpaqueToken, OPAQUE_TOKEN_PATTERN } from './opaque-token.js';
import {
  dummyPasswordHash,
  hashPassword,
  passwordNeedsRehash,
  verifyPassword,
} from './password.js';
import {
  consumePasswordReset,
  countResetsSince,
  insertPasswordReset,
  spendOpenPasswordResets,
} from './password-resets.repo.js';
import { revokeUserSessions, startSession, toAuthSession } from './sessions.service.js';

// Made when the module loads, so the first unknown-email login is not slower than the rest.
void dummyPasswordHash();

/** Reset emails per account per hour; more requests are answered 202 and send nothing (mail bombing). */
export const MAX_RESET_EMAILS_PER_HOUR = 3;

const invalidCredentials = () =>
  new AppError('INVALID_CREDENTIALS', 'The email or password is not correct');

/** Registers a business (14-day trial) with its owner and signs the owner in. */
export async function register(
  deps: AppDeps,
  input: RegisterBody,
  meta: RequestMeta,
): Promise<AuthSession> {
  const passwordHash = await hashPassword(input.password);
  const now = deps.clock();
  const { user, business, issued } = await deps.db.transaction(async (tx) => {
    const business = await createTrialBusiness(
      tx,
      { name: input.businessName, phone: input.phone },
      now,
    );
    const scope = scopeFromTrustedRow({ businessId: business.id });
    const user = await createUserRecord(
      tx,
      scope,
      { email: input.email, name: input.name, passwordHash, role: 'owner' },
      now,
    );
    const issued = await startSession(tx, deps, user, meta, now);
    await recordAudit(
      tx,
      scope,
      {
        actorUserId: user.id,
        action: 'user.registered',
        targetType: 'business',
        targetId: business.id,
        meta,
      },
      now,
    );
    return { user, business, issued };
  });
  return toAuthSession(deps, user, business, issued, now);
}

/**
 * Signs in by email and password. Unknown email, wrong password and disabled account all
 * answer the same 401 after one argon2 verification each (against a dummy hash for an
 * unknown email). Failures are counted per email+address and per address (each attempt
 * takes a slot first, so parallel attempts cannot overrun it); past the limit the answer is
 * 429 before any hash is computed.
 */
export async function login(
  deps: AppDeps,
  input: LoginBody,
  meta: RequestMeta,
): Promise<AuthSession> {
  const throttle = loginThrottleFor(deps);
  const verdict = await throttle.begin(input.email, meta.ip);
  if (verdict.limited) {
    // Operators review these (OWASP: log lockouts); the email is not logged, the address is.
    deps.logger.warn({ ip: meta.ip }, 'login throttled after repeated failures');
    throw new AppError('RATE_LIMITED', 'Too many failed sign-ins; retry later', {
      headers: { 'Retry-After': String(verdict.retryAfterSeconds) },
    });
  }
  const account = await findAccountByEmail(deps.db, input.email);
  const hash = account?.passwordHash ?? (await dummyPasswordHash());
  const matches = await verifyPassword(hash, input.password);
  if (!account || !matches || account.status !== 'active') {
    // The attempt keeps the slot begin() took: that is the failure count.
    throw invalidCredentials();
  }
  await throttle.succeeded(input.email, meta.ip);
  // Hashes made with older, weaker parameters are upgraded while the password is at hand.
  const upgradedHash = passwordNeedsRehash(account.passwordHash)
    ? await hashPassword(input.password)
    : undefined;
  const now = deps.clock();
  const scope = scopeFromTrustedRow(account);
  const { issued, business } = await deps.db.transaction(async (tx) => {
    if (upgradedHash) await setUserPassword(tx, scope, account.id, upgradedHash, now);
    const issued = await startSession(tx, deps, account, meta, now);
    await recordAudit(
      tx,
      scope,
      {
        actorUserId: account.id,
        action: 'auth.login',
        targetType: 'session',
        targetId: issued.sessionId,
        meta,
      },
      now,
    );
    return { issued, business: await getBusinessRow(tx, scope) };
  });
  return toAuthSession(deps, account, business, issued, now);
}

/**
 * Emails a single-use reset link (1 h) when an active account has this email, at most
 * three an hour. The caller learns nothing either way: the route answers 202 regardless.
 */
export async function requestPasswordReset(
  deps: AppDeps,
  email: string,
  meta: RequestMeta,
): Promise<void> {
  const account = await findAccountByEmail(deps.db, email);
  if (!account || account.status !== 'active') return;
  const now = deps.clock();
  const recent = await countResetsSince(deps.db, account.id, new Date(now.getTime() - 3600_000));
  if (recent >= MAX_RESET_EMAILS_PER_HOUR) return;
  const expiresAt = new Date(now.getTime() + deps.config.auth.passwordResetTtlSeconds * 1000);
  const { token, hash } = newOpaqueToken();
  await deps.db.transaction(async (tx) => {
    await insertPasswordReset(tx, {
      id: newId(),
      userId: account.id,
      tokenHash: hash,
      expiresAt,
      requestIp: meta.ip,
      createdAt: now,
    });
    await writeOutbox(tx, {
      kind: 'email',
      type: 'password-reset',
      businessId: account.businessId,
      payload: {
        to: account.email,
        name: account.name,
        resetUrl: `${deps.config.appUrl}/reset-password?token=${encodeURIComponent(token)}`,
        expiresAt: expiresAt.toISOString(),
      },
    });
    await recordAudit(
      tx,
      scopeFromTrustedRow(account),
      {
        actorUserId: null,
        action: 'user.password_reset_requested',
        targetType: 'user',
        targetId: account.id,
        meta,
      },
      now,
    );
  });
}

/**
 * Sets a new password from a reset link. The token is single use (consumed under a row
 * lock), expires after 1 h, and every session of the user is revoked.
 */
export async function resetPassword(
  deps: AppDeps,
  token: string,
  password: string,
  meta: RequestMeta,
): Promise<void> {
  const invalid = () =>
    unprocessable('This reset link is invalid or has expired; request a new one', [
      { path: 'token', message: 'is invalid or expired', code: 'invalid_token' },
    ]);
  if (!OPAQUE_TOKEN_PATTERN.test(token)) throw invalid();
  const passwordHash = await hashPassword(password);
  const now = deps.clock();
  const userId = await deps.db.transaction(async (tx) => {
    const reset = await consumePasswordReset(tx, hashToken(token), now);
    if (!reset) throw invalid();
    const account = await findAccountById(tx, reset.userId);
    if (!account || account.status !== 'active') throw invalid();
    const scope = scopeFromTrustedRow(account);
    await setUserPassword(tx, scope, account.id, passwordHash, now);
    // Any other outstanding link for this user dies with this one.
    await spendOpenPasswordResets(tx, account.id, now);
    const revoked = await revokeUserSessions(tx, account.id, 'password_reset', now);
    await recordAudit(
      tx,
      scope,
      {
        actorUserId: account.id,
        action: 'user.password_reset',
        targetType: 'user',
        targetId: account.id,
        details: { sessionsRevoked: revoked },
        meta,
      },
      now,
    );
    return account.id;
  });
  await announceAuthChanges(deps, [{ kind: 'user', id: userId }]);
}
