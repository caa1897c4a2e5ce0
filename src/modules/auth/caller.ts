import type { Role } from '../../db/schema/index.js';
import type { TenantScope } from '../../db/tenant-scope.js';
import type { Permission } from './permissions.js';

declare const callerBrand: unique symbol;

/**
 * Who a service acts for: the one shape every service called on behalf of someone takes
 * (`caller: Caller`). It is made only by authenticate() from the verified access token and
 * the rows read with it (`ctx.state.auth`, see http/context.ts), so a service can trust
 * every field; anything with the same fields built by hand does not type-check. A caller
 * is also the TenantScope of its business, so repos take it as their scope.
 *
 * New facts about the caller are new fields here,
 * filled in by authenticate(): no service signature changes.
 */
export interface Caller extends TenantScope {
  readonly userId: string;
  /** The login (auth_sessions row) the request was made in. */
  readonly sessionId: string;
  /** Read fresh on every request: a demotion applies to tokens already issued. */
  readonly role: Role;
  readonly permissions: ReadonlySet<Permission>;
  /** The locations the user is assigned to; empty = every location (read fresh, like role). */
  readonly locationIds: readonly string[];
  /** The business's IANA timezone: its calendar days (sale filters, reports). */
  readonly businessTimezone: string;
  readonly [callerBrand]: true;
}

/** The fields of a Caller, verified by authenticate() (or a test's own sign-in). */
export type VerifiedCaller = Omit<Caller, typeof callerBrand | keyof TenantScope> & {
  readonly businessId: string;
};

/** Brands verified facts as a Caller; only authenticate() and test helpers call this. */
export function asCaller<T extends VerifiedCaller>(verified: T): T & Caller {
  return verified as T & Caller;
}
