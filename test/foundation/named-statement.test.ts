import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { namedStatement, unnamedStatement } from '../../src/db/named-statement.js';
import { createTestApp } from '../helpers/app.js';

const { deps } = createTestApp();

// src/db/named-statement.ts runs prepared statements through Drizzle's internal session
// (`db._.session.prepareQuery`): Drizzle has no public API for a named raw `sql` statement.
// Should an upgrade move or change it, this fails here, naming the cause, before any
// hot path does.
describe('namedStatement (Drizzle internals it relies on)', () => {
  it('the pool and a transaction both expose session.prepareQuery', async () => {
    const { npmVersion } = await import('drizzle-orm/version');
    const hint = `drizzle-orm ${npmVersion} changed db._.session.prepareQuery; update src/db/named-statement.ts`;
    expect(typeof deps.db._.session.prepareQuery, hint).toBe('function');
    const inTransaction = await deps.db.transaction((tx) =>
      Promise.resolve(typeof tx._.session.prepareQuery),
    );
    expect(inTransaction, hint).toBe('function');
  });

  it('runs as a server-side prepared statement under its name, values bound by name', async () => {
    const name = `named_statement_test_${process.pid}`;
    const echo = namedStatement<{ total: number; label: string }, { a: number; b: string }>(
      name,
      (p) => sql`select ${p('a')}::int + 1 as total, ${p('b')}::text as label`,
    );
    await deps.db.transaction(async (tx) => {
      expect(await echo(tx, { a: 41, b: 'x' })).toEqual([{ total: 42, label: 'x' }]);
      expect(await echo(tx, { a: 1, b: 'y' })).toEqual([{ total: 2, label: 'y' }]);
      // The same connection now holds the statement under that name.
      const prepared = await tx.execute(
        sql`select count(*)::int as n from pg_prepared_statements where name = ${name}`,
      );
      expect(prepared.rows[0]).toEqual({ n: 1 });
    });
  });

  it('an unnamed statement answers the same without leaving a prepared statement', async () => {
    const echo = unnamedStatement<{ ids: string[] }, { ids: string[] }>(
      (p) => sql`select ${p('ids')}::text[] as ids`,
    );
    await deps.db.transaction(async (tx) => {
      const before = await tx.execute(sql`select count(*)::int as n from pg_prepared_statements`);
      expect(await echo(tx, { ids: ['a', 'b'] })).toEqual([{ ids: ['a', 'b'] }]);
      const after = await tx.execute(sql`select count(*)::int as n from pg_prepared_statements`);
      expect(after.rows[0]).toEqual(before.rows[0]);
    });
  });
});

// deps.hotDb (src/deps.ts): the hot path's pool plans a prepared statement once, generically,
// where the main pool's first executions are custom plans (PostgreSQL's default mode).
describe('the hot pool', () => {
  const plansOf = async (db: typeof deps.db, name: string) => {
    const count = namedStatement<{ n: number }, { limit: number }>(
      name,
      (p) => sql`select count(*)::int as n from generate_series(1, ${p('limit')}::int)`,
    );
    return db.transaction(async (tx) => {
      expect(await count(tx, { limit: 3 })).toEqual([{ n: 3 }]);
      expect(await count(tx, { limit: 5 })).toEqual([{ n: 5 }]);
      const { rows } = await tx.execute(
        sql`select generic_plans::int as generic, custom_plans::int as custom,
              current_setting('plan_cache_mode') as mode
            from pg_prepared_statements where name = ${name}`,
      );
      return rows[0];
    });
  };

  it('uses generic plans only; the main pool keeps the default mode', async () => {
    expect(await plansOf(deps.hotDb, `hot_plan_test_${process.pid}`)).toEqual({
      generic: 2,
      custom: 0,
      mode: 'force_generic_plan',
    });
    expect(await plansOf(deps.db, `main_plan_test_${process.pid}`)).toEqual({
      generic: 0,
      custom: 2,
      mode: 'auto',
    });
  });
});
