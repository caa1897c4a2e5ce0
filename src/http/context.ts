import type { IncomingMessage } from 'node:http';
import type { ParameterizedContext } from 'koa';
import type { AppDeps } from '../deps.js';
import type { Role } from '../db/schema/index.js';
import type { Permission } from '../modules/auth/permissions.js';
import type { SubscriptionStatus } from '../modules/business/subscription.rules.js';

/** Who is calling, resolved by authenticate() from the token and the current database row. */
export interface AuthContext {
  userId: string;
  businessId: string;
  role: Role;
  /** The locations the user is assigned to; empty = every location (read fresh, like role). */
  locationIds: readonly string[];
  sessionId: string;
  permissions: ReadonlySet<Permission>;
  subscriptionStatus: SubscriptionStatus;
  businessTimezone: string;
}

export interface AppState {
  requestId: string;
  auth?: AuthContext;
}

export interface AppContextExtensions {
  deps: AppDeps;
  /** Validated request parts, set by defineRoute(). */
  input: unknown;
}

export type AppContext = ParameterizedContext<AppState, AppContextExtensions>;

/** The caller of an authenticated route; throws if used on a public one (a programming error). */
export function requireAuth(ctx: { state: AppState }): AuthContext {
  if (!ctx.state.auth) throw new Error('requireAuth() used on a route without authentication');
  return ctx.state.auth;
}

/** Request-scoped log fields set once the caller is known (see authenticate()). */
export const LOG_CONTEXT = Symbol('logContext');
export type RequestWithLogContext = IncomingMessage & {
  [LOG_CONTEXT]?: { businessId: string; userId: string };
};
