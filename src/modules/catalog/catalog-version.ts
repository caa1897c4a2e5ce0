import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DbOrTx } from '../../db/client.js';
import type { AppDeps } from '../../deps.js';
import { withTimeout } from '../../lib/timeout.js';

/**
 * The catalog version: one random token per business in Redis, replaced after every
 * committed write that changes what a product page shows. Cached pages are stored under the
 * token read before their database read (catalog-cache.ts), so a write's new token hides
 * every page rendered before it: a read that starts after a write was answered never sees
 * a page from before it.
 *
 * Random, not INCR: an evicted or expired counter would restart and name old pages again;
 * a lost token only orphans its pages (they expire with their TTL).
 *
 * Who bumps: every transaction run by `deps.db.transaction` that took the catalog write
 * order (beginCatalogWrite → noteCatalogWrite) bumps its business once it has settled — in
 * `finally`, because a COMMIT whose answer was lost may still have committed. The one writer
 * outside a transaction (the sale statement, run alone) is wrapped in withCatalogBump. A
 * write noted on a transaction that will not bump (one not opened by `deps.db.transaction`)
 * throws: a writer that could not bump is a bug, found by the first test that runs it, never
 * a page that silently stays stale.
 *
 * Tracked per transaction object, not with AsyncLocalStorage: on Node 20 an active
 * AsyncLocalStorage hooks every promise of the process (about 3× the cost of an `await`).
 */

/** How long a version token lives; its expiry is as harmless as a bump (a fresh token). */
export const VERSION_TTL_SECONDS = 24 * 60 * 60;

/**
 * A bump waits this long at most: the write is committed and its answer must not hang on a
 * Redis that stopped answering without closing the connection (the bump is retried).
 */
const BUMP_TIMEOUT_MS = 1_000;

/** The businesses each open transaction of `deps.db.transaction` has noted. */
const noted = new WeakMap<DbOrTx, Set<string>>();

/** `<prefix>:catalog:{<businessId>}:` — the hash tag keeps a business's keys in one slot. */
export const catalogKeyPrefix = (deps: AppDeps, businessId: string) =>
  `${deps.config.redis.prefix}:catalog:{${businessId}}:`;

export const versionKey = (deps: AppDeps, businessId: string) =>
  `${catalogKeyPrefix(deps, businessId)}v`;

/** randomUUID draws from a cached entropy pool: cheap enough to make one per read. */
export const freshToken = () => randomUUID();

/** Records that `tx` changes `businessId`'s products or stock: bumped once `tx` settles. */
export function noteCatalogWrite(tx: DbOrTx, businessId: string): void {
  const businesses = noted.get(tx);
  if (!businesses) {
    throw new Error(
      'A catalog write ran in a transaction not opened by deps.db.transaction: its cached pages would stay stale',
    );
  }
  businesses.add(businessId);
}

/**
 * Makes every `deps.db.transaction` bump the catalog versions its writes noted, once it
 * settles (success or failure), before its caller goes on to answer. createDeps calls it
 * once: the one place writers go through, so none can forget to bump.
 */
export function trackCatalogWrites(deps: AppDeps): void {
  const transaction = deps.db.transaction.bind(deps.db);
  deps.db.transaction = async (run, config) => {
    const businesses = new Set<string>();
    try {
      return await transaction((tx) => {
        noted.set(tx, businesses);
        return run(tx);
      }, config);
    } finally {
      if (businesses.size > 0) await bumpCatalogVersions(deps, [...businesses]);
    }
  };
}

/** Runs a catalog write made outside deps.db.transaction, then bumps (success or failure). */
export async function withCatalogBump<T>(
  deps: AppDeps,
  businessId: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } finally {
    await bumpCatalogVersions(deps, [businessId]);
  }
}

/** Businesses whose bump failed, per Redis client: bumped again when it is ready. */
const unbumped = new WeakMap<Redis, Set<string>>();

/**
 * Replaces the businesses' version tokens. Never throws: the write is committed and must
 * be answered. When Redis fails, this process's own reads go to PostgreSQL meanwhile and the
 * bump is retried when the connection is back; a page cached before it can be served by
 * another process until then or until its TTL, whichever is first.
 */
export async function bumpCatalogVersions(deps: AppDeps, businessIds: string[]): Promise<void> {
  const { redis } = deps;
  try {
    const pipeline = redis.pipeline();
    for (const businessId of businessIds) {
      pipeline.set(versionKey(deps, businessId), freshToken(), 'EX', VERSION_TTL_SECONDS);
    }
    const results = (await withTimeout(pipeline.exec(), BUMP_TIMEOUT_MS)) ?? [];
    const failed = results.find(([error]) => error);
    if (failed || results.length !== businessIds.length) {
      throw failed?.[0] ?? new Error('catalog version bump not answered');
    }
  } catch (error) {
    retryWhenReady(deps, businessIds, error as Error);
  }
}

/** Keeps failed bumps for the next 'ready'; one warning per outage, not one per write. */
function retryWhenReady(deps: AppDeps, businessIds: string[], error: Error): void {
  const { redis } = deps;
  let pending = unbumped.get(redis);
  if (!pending) {
    const set = new Set<string>();
    pending = set;
    unbumped.set(redis, set);
    redis.on('ready', () => {
      if (set.size === 0) return;
      const retry = [...set];
      set.clear();
      void bumpCatalogVersions(deps, retry);
    });
  }
  if (pending.size === 0) {
    deps.logger.warn(
      { reason: error.message },
      'catalog version bumps fail; retried when Redis is back (pages meanwhile from PostgreSQL here)',
    );
  }
  for (const businessId of businessIds) pending.add(businessId);
}
