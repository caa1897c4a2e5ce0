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
 * Tables whose rows carry delivery bookkeeping that background processes of other test files
 * update for every business (the outbox relay's sequencing and dispatch, the RabbitMQ
 * publisher's confirmations): only the business's facts are fingerprinted there.
 */
const ROW_FACTS: Record<string, string> = {
  outbox: `(t.id, t.message_id, t.business_id, t.kind, t.type, t.payload)::text`,
};

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
      const row = ROW_FACTS[table] ?? 't::text';
      return `(select count(*) || ':' || coalesce(md5(string_agg(${row}, '|' order by ${row})), '')
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
