import type { Pool } from 'pg';
import type { RouteSpec } from '../../src/http/route.js';

/** `POST /sales/{id}/void`: the key every table of the security matrix is indexed by. */
export const routeKey = (route: Pick<RouteSpec, 'method' | 'path'>): string =>
  `${route.method.toUpperCase()} ${route.path}`;

/** The path parameters a route declares, in order (`{id}`, `{deliveryId}`…). */
export const pathParams = (path: string): string[] =>
  [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);

let tenantTables: Promise<string[]> | undefined;

/** Every table with a business_id column, read from the catalog so a new table is covered too. */
function tablesWithBusinessId(pool: Pool): Promise<string[]> {
  tenantTables ??= pool
    .query<{ table_name: string }>(
      `select table_name from information_schema.columns
        where table_schema = 'public' and column_name = 'business_id'
        order by table_name`,
    )
    .then((result) => result.rows.map((row) => row.table_name));
  return tenantTables;
}

/**
 * A fingerprint of every row a business owns (its businesses row and each table with a
 * business_id), per table: equal snapshots mean nothing of the business changed.
 */
export async function businessSnapshot(
  pool: Pool,
  businessId: string,
): Promise<Record<string, string>> {
  const tables = ['businesses', ...(await tablesWithBusinessId(pool))];
  const select = tables
    .map((table) => {
      const where = table === 'businesses' ? 'id' : 'business_id';
      return `(select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '')
                 from ${table} t where ${where} = $1) as ${table}`;
    })
    .join(', ');
  const result = await pool.query<Record<string, string>>(`select ${select}`, [businessId]);
  return result.rows[0]!;
}

export { expectProblem, type ProblemLike } from './problem.js';

/** The fields a problem document may carry (API.md "Errors"); anything else is a leak. */
export const PROBLEM_FIELDS = [
  'type',
  'title',
  'status',
  'code',
  'detail',
  'retryable',
  'requestId',
  'errors',
];
