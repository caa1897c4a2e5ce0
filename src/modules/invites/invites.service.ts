import { checkAssignment } from '../locations/location-access.js';
import type { AppDeps } from '../../deps.js';
import type { Caller } from '../auth/caller.js';
import { scopeFromTrustedRow } from '../../db/tenant-scope.js';
import { decodeIdCursor, DEFAULT_PAGE_LIMIT, toIdPage } from '../../lib/cursor.js';
import { conflict, forbidden, notFound, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { recordAudit, type RequestMeta } from '../audit/audit.service.js';
import type { AuthSession } from '../auth/auth.schemas.js';
import { hashToken, newOpaqueToken, OPAQUE_TOKEN_PATTERN } from '../auth/opaque-token.js';
import { hashPassword } from '../auth/password.js';
import type { Permission } from '../auth/permissions.js';
import { startSession, toAuthSession } from '../auth/sessions.service.js';
import { getBusinessRow } from '../business/business.service.js';
import { createUserRecord, findAccountByEmail, getUserRow } from '../users/users.service.js';
import {
  findInvite,
  insertInvite,
  listInvites as listInviteRows,
  lockInviteByTokenHash,
  markInvite,
  revokePendingInvitesFor,
  type InviteRow,
} from './invites.repo.js';
import type {
  AcceptInviteBody,
  CreateInviteBody,
  Invite,
  InviteListQuery,
  InviteStatus,
} from './invites.schemas.js';

function inviteStatus(row: InviteRow, now: Date): InviteStatus {
  if (row.acceptedAt) return 'accepted';
  if (row.revokedAt) return 'revoked';
  return row.expiresAt.getTime() <= now.getTime() ? 'expired' : 'pending';
}

export function presentInvite(row: InviteRow, now: Date): Invite {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    locationIds: row.locationIds,
    status: inviteStatus(row, now),
    invitedBy: row.invitedBy,
    expiresAt: row.expiresAt.toISOString(),
    acceptedAt: row.acceptedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Managers invite cashiers; only owners invite managers. */
function assertMayInvite(caller: Caller, role: InviteRow['role']): void {
  const needed: Permission = role === 'manager' ? 'invites:manager' : 'invites:cashier';
  if (!caller.permissions.has(needed)) {
    throw forbidden(`Your role cannot invite or manage ${role} invites`);
  }
}

/**
 * Invites someone by email (7 days). A newer invite for the same email replaces a pending
 * one; an email that already has an account is 409. The email goes out via the outbox.
 */
export async function createInvite(
  deps: AppDeps,
  caller: Caller,
  meta: RequestMeta,
  input: CreateInviteBody,
): Promise<Invite> {
  assertMayInvite(caller, input.role);
  const email = input.email.toLowerCase();
  if (await findAccountByEmail(deps.db, email)) {
    throw conflict('An account with this email already exists', 'email');
  }
  const now = deps.clock();
  const expiresAt = new Date(now.getTime() + deps.config.auth.inviteTtlSeconds * 1000);
  const { token, hash } = newOpaqueToken();
  return deps.db.transaction(async (tx) => {
    const locationIds = await checkAssignment(tx, caller, input.locationIds ?? [], 'locationIds');
    const [inviter, business] = await Promise.all([
      getUserRow(tx, caller, caller.userId),
      getBusinessRow(tx, caller),
    ]);
    await revokePendingInvitesFor(tx, caller, email, now);
    const row = await insertInvite(tx, caller, {
      id: newId(),
      email,
      role: input.role,
      locationIds,
      tokenHash: hash,
      invitedBy: caller.userId,
      expiresAt,
      createdAt: now,
    });
    await writeOutbox(tx, {
      kind: 'email',
      type: 'invite',
      businessId: caller.businessId,
      payload: {
        to: email,
        businessName: business.name,
        inviterName: inviter?.name ?? business.name,
        role: input.role,
        acceptUrl: `${deps.config.appUrl}/invite/accept?token=${encodeURIComponent(token)}`,
        expiresAt: expiresAt.toISOString(),
      },
    });
    await recordAudit(
      tx,
      caller,
      {
        actorUserId: caller.userId,
        action: 'invite.created',
        targetType: 'invite',
        targetId: row.id,
        details: { email, role: input.role },
        meta,
      },
      now,
    );
    return presentInvite(row, now);
  });
}

/** The business's invites, newest first, optionally by status. */
export async function listInvites(deps: AppDeps, caller: Caller, query: InviteListQuery) {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  const now = deps.clock();
  const rows = await listInviteRows(deps.db, caller, {
    status: query.status,
    beforeId: decodeIdCursor(query.cursor),
    limit: limit + 1,
    now,
  });
  return toIdPage(rows, limit, (row) => presentInvite(row, now));
}

/** Revokes an invite so its link stops working; revoking twice is a no-op, an accepted one is 422. */
export async function revokeInvite(
  deps: AppDeps,
  caller: Caller,
  meta: RequestMeta,
  id: string,
): Promise<void> {
  const now = deps.clock();
  await deps.db.transaction(async (tx) => {
    const row = await findInvite(tx, caller, id, { forUpdate: true });
    if (!row) throw notFound('Invite');
    assertMayInvite(caller, row.role);
    if (row.acceptedAt) throw unprocessable('This invite has already been accepted');
    if (row.revokedAt) return;
    await markInvite(tx, caller, id, { revokedAt: now });
    await recordAudit(
      tx,
      caller,
      {
        actorUserId: caller.userId,
        action: 'invite.revoked',
        targetType: 'invite',
        targetId: id,
        details: { email: row.email, role: row.role },
        meta,
      },
      now,
    );
  });
}

/**
 * Accepts an invite link: creates the user in the inviting business with the invited role
 * and signs them in. The link is single use (the invite row is locked while it is spent).
 */
export async function acceptInvite(
  deps: AppDeps,
  input: AcceptInviteBody,
  meta: RequestMeta,
): Promise<AuthSession> {
  const invalid = () =>
    unprocessable('This invite link is invalid, used or expired; ask for a new one', [
      { path: 'token', message: 'is invalid, used or expired', code: 'invalid_token' },
    ]);
  if (!OPAQUE_TOKEN_PATTERN.test(input.token)) throw invalid();
  const passwordHash = await hashPassword(input.password);
  const now = deps.clock();
  const { user, business, issued } = await deps.db.transaction(async (tx) => {
    const invite = await lockInviteByTokenHash(tx, hashToken(input.token));
    if (!invite || inviteStatus(invite, now) !== 'pending') throw invalid();
    const scope = scopeFromTrustedRow(invite);
    const user = await createUserRecord(
      tx,
      scope,
      {
        email: invite.email,
        name: input.name,
        passwordHash,
        role: invite.role,
        locationIds: invite.locationIds,
      },
      now,
    );
    await markInvite(tx, scope, invite.id, { acceptedAt: now, acceptedUserId: user.id });
    const issued = await startSession(tx, deps, user, meta, now);
    await recordAudit(
      tx,
      scope,
      {
        actorUserId: user.id,
        action: 'invite.accepted',
        targetType: 'invite',
        targetId: invite.id,
        details: { userId: user.id, role: invite.role, invitedBy: invite.invitedBy },
        meta,
      },
      now,
    );
    return { user, business: await getBusinessRow(tx, scope), issued };
  });
  return toAuthSession(deps, user, business, issued, now);
}
