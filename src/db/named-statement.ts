import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './client.js';

const dialect = new PgDialect({ casing: 'snake_case' });

type Placeholder = ReturnType<typeof sql.placeholder>;

/** A value spliced into a shared statement fragment: a placeholder or a SQL expression. */
export type SqlValue = Placeholder | SQL;

/**
 * A hot-path statement written as a Drizzle `sql` template, compiled to text once and run
 * as a named (server-side prepared) statement: PostgreSQL parses and plans it once per
 * connection, and no query is built per request (shared/research/performance.md: about
 * 1.5× over unnamed statements, and Drizzle's per-call query building is gone). Values are
 * bound by name through `sql.placeholder`; arrays go in whole (`${p('ids')}::uuid[]`), so
 * the text never depends on how many rows a call writes. Rows come back as PostgreSQL
 * sends them through Drizzle's raw path (timestamptz as text; bigint and numeric as
 * numbers, see client.ts).
 */
export function namedStatement<Row, Params extends Record<string, unknown>>(
  name: string,
  build: (p: (key: keyof Params & string) => Placeholder) => SQL,
): (db: DbOrTx, params: Params) => Promise<Row[]> {
  return compiledStatement(name, build);
}

/**
 * The same statement compiled once but sent unnamed: PostgreSQL parses it and plans it for
 * each call's own values (a custom plan), where a named statement soon settles on one
 * generic plan for every call. For statements whose best plan depends on the size of the
 * arrays they get (a 100-sale batch against a stream of one-sale writes). Choosing the plan
 * this way, rather than with `plan_cache_mode`, leaves the foreign-key checks the statement
 * fires on their cached plans: under `force_custom_plan` each check was planned anew, and a
 * batch's 1,600 checks took two thirds of its time (bench/README.md).
 */
export function unnamedStatement<Row, Params extends Record<string, unknown>>(
  build: (p: (key: keyof Params & string) => Placeholder) => SQL,
): (db: DbOrTx, params: Params) => Promise<Row[]> {
  return compiledStatement(undefined, build);
}

function compiledStatement<Row, Params extends Record<string, unknown>>(
  name: string | undefined,
  build: (p: (key: keyof Params & string) => Placeholder) => SQL,
): (db: DbOrTx, params: Params) => Promise<Row[]> {
  const query = dialect.sqlToQuery(build((key) => sql.placeholder(key)));
  return async (db, params) => {
    // Drizzle's internal session API (no public one runs a raw `sql` statement by name);
    // test/foundation/named-statement.test.ts fails first if an upgrade changes it.
    const statement = db._.session.prepareQuery(query, undefined, name, false);
    const result = (await statement.execute(params)) as { rows: Row[] };
    return result.rows;
  };
}
