import { checkAssignment } from '../locations/location-access.js';
import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import type { DbOrTx } from '../../db/client.js';
import type { Role } from '../../db/schema/index.js';
import type { TenantScope } from '../../db/tenant-scope.js';
import { decodeIdCursor, DEFAULT_PAGE_LIMIT, toIdPage } from '../../lib/cursor.js';
import { AppError, conflict, notFound, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { recordAudit, type RequestMeta } from '../audit/audit.service.js';
import { loginThrottleFor } from '../auth/login-throttle.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { permissionsOf } from '../auth/permissions.js';
import { announceAuthChanges } from '../auth/auth-changes.js';
import { revokeSessionsOfUser } from '../auth/sessions.repo.js';
import { getBusinessRow, presentBusiness } from '../business/business.service.js';
import {
  findUser,
  findUserByEmail,
  findUserById,
  insertUser,
  listUsers as listUserRows,
  lockActiveOwners,
  updateUser as updateUserRow,
  type UserRow,
} from './users.repo.js';
import type { Me, UpdateMeBody, UpdateUserBody, User, UserListQuery } from './users.schemas.js';

export type { UserRow };

export function presentUser(row: UserRow): User {
  return {
    id: row.id,
    businessId: row.businessId,
    email: row.email,
    name: row.name,
    role: row.role,
    locationIds: row.locationIds,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The account with this email in any business (login, "email taken"); emails compare case-insensitively. */
export function findAccountByEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
  return findUserByEmail(db, email);
}

/** The account a trusted row (a reset link) points at, whatever its business. */
export function findAccountById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  return findUserById(db, id);
}

/** Replaces a user's password hash (the caller revokes sessions as its use case requires). */
export async function setUserPassword(
  tx: DbOrTx,
  scope: TenantScope,
  id: string,
  passwordHash: string,
  now: Date,
): Promise<void> {
  await updateUserRow(tx, scope, id, { passwordHash }, now);
}

/** A user of the business, or undefined. */
export function getUserRow(db: DbOrTx, scope: TenantScope, id: string) {
  return findUser(db, scope, id);
}

/** Creates a user in the business; a taken email is 409 naming `email`. */
export async function createUserRecord(
  tx: DbOrTx,
  scope: TenantScope,
  input: {
    email: string;
    name: string;
    passwordHash: string;
    role: Role;
    locationIds?: string[];
  },
  now: Date,
): Promise<UserRow> {
  if (await findUserByEmail(tx, input.email)) {
    throw conflict('An account with this email already exists', 'email');
  }
  return insertUser(tx, scope, {
    id: newId(),
    email: input.email.toLowerCase(),
    name: input.name,
    passwordHash: input.passwordHash,
    role: input.role,
    locationIds: input.locationIds ?? [],
    createdAt: now,
    updatedAt: now,
  });
}

/** The caller, their business and what their role allows. */
export async function getMe(deps: AppDeps, caller: Caller): Promise<Me> {
  const [user, business] = await Promise.all([
    findUser(deps.db, caller, caller.userId),
    getBusinessRow(deps.db, caller),
  ]);
  if (!user) throw notFound('User');
  return {
    user: presentUser(user),
    business: presentBusiness(business),
    permissions: [...permissionsOf(user.role)],
  };
}

/**
 * Changes the caller's name and/or password. A new password needs the current one (wrong →
 * 422, counted by the login throttle like a failed login) and signs out every other session.
 */
export async function updateMe(
  deps: AppDeps,
  caller: Caller,
  meta: RequestMeta,
  patch: UpdateMeBody,
): Promise<Me> {
  const current = await findUser(deps.db, caller, caller.userId);
  if (!current) throw notFound('User');
  let passwordHash: string | undefined;
  if (patch.newPassword !== undefined) {
    const throttle = loginThrottleFor(deps);
    const verdict = await throttle.begin(current.email, meta.ip);
    if (verdict.limited) {
      throw new AppError('RATE_LIMITED', 'Too many wrong passwords; retry later', {
        headers: { 'Retry-After': String(verdict.retryAfterSeconds) },
      });
    }
    if (!(await verifyPassword(current.passwordHash, patch.currentPassword ?? ''))) {
      throw unprocessable('The current password is not correct', [
        { path: 'currentPassword', message: 'is not correct', code: 'invalid_password' },
      ]);
    }
    await throttle.succeeded(current.email, meta.ip);
    passwordHash = await hashPassword(patch.newPassword);
  }
  const now = deps.clock();
  await deps.db.transaction(async (tx) => {
    await updateUserRow(
      tx,
      caller,
      caller.userId,
      {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(passwordHash !== undefined ? { passwordHash } : {}),
      },
      now,
    );
    if (patch.name !== undefined && patch.name !== current.name) {
      await recordAudit(
        tx,
        caller,
        {
          actorUserId: caller.userId,
          action: 'user.name_changed',
          targetType: 'user',
          targetId: caller.userId,
          details: { from: current.name, to: patch.name },
          meta,
        },
        now,
      );
    }
    if (passwordHash !== undefined) {
      const revoked = await revokeSessionsOfUser(
        tx,
        caller.userId,
        'password_changed',
        now,
        caller.sessionId,
      );
      await recordAudit(
        tx,
        caller,
        {
          actorUserId: caller.userId,
          action: 'user.password_changed',
          targetType: 'user',
          targetId: caller.userId,
          details: { otherSessionsRevoked: revoked },
          meta,
        },
        now,
      );
    }
  });
  if (passwordHash !== undefined) {
    await announceAuthChanges(deps, [{ kind: 'user', id: caller.userId }]);
  }
  return getMe(deps, caller);
}

/** The business's users, newest first. */
export async function listUsers(deps: AppDeps, caller: Caller, query: UserListQuery) {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  const rows = await listUserRows(deps.db, caller, {
    role: query.role,
    status: query.status,
    beforeId: decodeIdCursor(query.cursor),
    limit: limit + 1,
  });
  return toIdPage(rows, limit, presentUser);
}

/**
 * Changes a user's role or status (owner). The business always keeps an active owner, so
 * an owner cannot demote or disable the last one (themselves included) → 422. Disabling
 * revokes every session of the user.
 */
export async function updateUser(
  deps: AppDeps,
  caller: Caller,
  meta: RequestMeta,
  userId: string,
  patch: UpdateUserBody,
): Promise<User> {
  const now = deps.clock();
  const user = await deps.db.transaction(async (tx) => {
    // Owners first, then the target: every owner-changing transaction locks in this order.
    const owners = await lockActiveOwners(tx, caller);
    const before = await findUser(tx, caller, userId, { forUpdate: true });
    if (!before) throw notFound('User');
    const after = { role: patch.role ?? before.role, status: patch.status ?? before.status };
    const wasActiveOwner = before.role === 'owner' && before.status === 'active';
    const staysActiveOwner = after.role === 'owner' && after.status === 'active';
    if (wasActiveOwner && !staysActiveOwner && owners.length <= 1) {
      throw unprocessable('A business needs an active owner: make someone else owner first', [
        {
          path: patch.role !== undefined && patch.role !== 'owner' ? 'role' : 'status',
          message: 'would leave the business without an active owner',
          code: 'last_owner',
        },
      ]);
    }
    if (patch.locationIds !== undefined) {
      // The owner assigns: any open location of the business.
      patch = {
        ...patch,
        locationIds: await checkAssignment(
          tx,
          { businessId: caller.businessId, role: 'owner', locationIds: [] },
          patch.locationIds,
          'locationIds',
        ),
      };
    }
    const row = await updateUserRow(tx, caller, userId, patch, now);
    if (!row) throw notFound('User');
    for (const field of ['role', 'status'] as const) {
      if (before[field] === row[field]) continue;
      await recordAudit(
        tx,
        caller,
        {
          actorUserId: caller.userId,
          action: `user.${field}_changed`,
          targetType: 'user',
          targetId: userId,
          details: { from: before[field], to: row[field] },
          meta,
        },
        now,
      );
    }
    if (before.status === 'active' && row.status === 'disabled') {
      await revokeSessionsOfUser(tx, userId, 'user_disabled', now);
    }
    return presentUser(row);
  });
  // Role, status and locations are what every session of the user carries (authenticate.ts).
  await announceAuthChanges(deps, [{ kind: 'user', id: userId }]);
  return user;
}
