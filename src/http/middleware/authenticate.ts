import type { Middleware } from 'koa';
import { AppError, forbidden, unauthenticated } from '../../lib/errors.js';
import { findAuthState } from '../../modules/auth/auth-lookup.repo.js';
import { asCaller } from '../../modules/auth/caller.js';
import { permissionsOf, type Permission } from '../../modules/auth/permissions.js';
import { subscriptionStatus } from '../../modules/business/subscription.rules.js';
import {
  LOG_CONTEXT,
  type AppContextExtensions,
  type AppState,
  type RequestWithLogContext,
} from '../context.js';

// RFC 9110 §11.1: the scheme name is case-insensitive (`bearer …` is the same scheme).
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;

/** Resolves `ctx.state.auth` from the bearer token and the current rows; 401 otherwise. */
export function authenticate(): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    const match = BEARER.exec(ctx.get('authorization'));
    if (!match?.[1]) throw unauthenticated();
    const { deps } = ctx;
    const claims = await deps.accessTokens.verify(match[1]);
    const now = deps.clock();
    // From the per-process cache when one is on (changes reach it within 1 s, auth-cache.ts).
    const state = deps.authCache
      ? await deps.authCache.lookUp(claims, now, () => findAuthState(deps.hotDb, claims))
      : await findAuthState(deps.hotDb, claims);
    if (
      !state ||
      state.userStatus !== 'active' ||
      state.sessionRevokedAt !== null ||
      state.sessionExpiresAt.getTime() <= now.getTime()
    ) {
      throw new AppError('UNAUTHENTICATED', 'This session is no longer valid; sign in again');
    }
    ctx.state.auth = asCaller({
      userId: claims.userId,
      businessId: claims.businessId,
      sessionId: claims.sessionId,
      // The role is read fresh: a demotion applies to tokens already issued.
      role: state.role,
      locationIds: state.locationIds,
      permissions: permissionsOf(state.role),
      subscriptionStatus: subscriptionStatus(state.subscriptionPlan, state.currentPeriodEnd, now),
      businessTimezone: state.timezone,
    });
    (ctx.req as RequestWithLogContext)[LOG_CONTEXT] = {
      businessId: claims.businessId,
      userId: claims.userId,
    };
    await next();
  };
}

/** 403 unless the caller's role grants the permission (see modules/auth/permissions.ts). */
export function requirePermission(
  permission: Permission,
): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    const auth = ctx.state.auth;
    if (!auth) throw unauthenticated();
    if (!auth.permissions.has(permission)) throw forbidden();
    await next();
  };
}

/**
 * 402 for writes while the subscription is expired. Never applied to sales (a sale is a
 * fact), auth, billing or payments; reads always work so a shop can see its data.
 */
export function requireActiveSubscription(): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    if (ctx.state.auth?.subscriptionStatus === 'expired') {
      throw new AppError(
        'SUBSCRIPTION_INACTIVE',
        'The subscription has expired; renew it under /business/subscription to make changes',
      );
    }
    await next();
  };
}
