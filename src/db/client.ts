import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgTransaction } from 'drizzle-orm/pg-core';
import type { NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import pg from 'pg';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;
export type Tx = PgTransaction<NodePgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** A repo function accepts either the pool-backed db or an open transaction. */
export type DbOrTx = Db | Tx;

// bigint (count(*), sums) arrives as a string by default; our numbers fit in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
// numeric (quantities) to JS numbers: at most 3 decimals and 14 digits, exact in a double.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  applicationName?: string;
  /**
   * `plan_cache_mode = force_generic_plan` on every connection: a prepared statement is
   * planned once and that plan reused, even where PostgreSQL's cost model would re-plan
   * it for each call's values (deps.ts hotDb: −20 % PostgreSQL CPU per sale measured).
   */
  genericPlans?: boolean;
  /** PGOPTIONS, kept on the generic-plan pool too (e.g. auto_explain while profiling). */
  sessionOptions?: string;
}

export function createPool(options: DatabaseOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    application_name: options.applicationName ?? 'backend-api',
    // Fail fast instead of queueing forever when PostgreSQL is unreachable.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A runaway statement must not hold a connection forever.
    statement_timeout: 15_000,
    idle_in_transaction_session_timeout: 30_000,
    // Added to the operator's PGOPTIONS (which node-pg reads only when `options` is unset).
    ...(options.genericPlans
      ? { options: `${options.sessionOptions ?? ''} -c plan_cache_mode=force_generic_plan`.trim() }
      : {}),
  });
  // An idle client losing its connection (server restart, pg_terminate_backend) emits
  // 'error' on the pool; without a listener that would crash the process.
  pool.on('error', () => undefined);
  // A checked-out client (inside a transaction) losing its connection emits 'error' on the
  // client itself, which pg-pool does not listen to while the client is out: unhandled, it
  // crashed the process. Its statements fail anyway (→ 503) and the pool discards the dead
  // client on release, so the event needs no handling beyond being heard.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema, casing: 'snake_case' });
}
