import { and, eq, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

declare const tenantBrand: unique symbol;

/**
 * The business a repo call acts for. Repos that touch tenant data take a `TenantScope`
 * instead of a bare id string, and a scope can only be made from a verified source: the
 * Caller (modules/auth/caller.ts: its business comes from the signed token and the
 * database, never from a path, query or body, and a Caller is a TenantScope) or a row the
 * service itself just read or created. Passing `ctx.input.params.businessId` by mistake
 * does not type-check.
 */
export interface TenantScope {
  readonly businessId: string;
  readonly [tenantBrand]: true;
}

/**
 * A scope for a business the service has authority over without a caller (registering a
 * new business, accepting an invite, a reset link): name the trusted row it comes from.
 */
export function scopeFromTrustedRow(row: { readonly businessId: string }): TenantScope {
  return { businessId: row.businessId } as TenantScope;
}

/** `business_id = scope AND …conditions`: the one way repos build a tenant WHERE clause. */
export function inScope(
  column: PgColumn,
  scope: TenantScope,
  ...conditions: (SQL | undefined)[]
): SQL {
  return and(eq(column, scope.businessId), ...conditions) as SQL;
}
