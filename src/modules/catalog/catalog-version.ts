import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
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
 * outside a transaction (the sale statement, run alone) wraps itself in withCatalogBumps. A
 * write noted outside any such scope throws: a writer that could not bump is a bug, found by
 * the first test that runs it, never a page that silently stays stale.
 */

/** How long a version token lives; its expiry is as harmless as a bump (a fresh token). */
export const VERSION_TTL_SECONDS = 24 * 60 * 60;

/**
 * A bump waits this long at most: the write is committed and its answer must not hang on a
 * Redis that stopped answering without closing the connection (the bump is retried).
 */
const BUMP_TIMEOUT_MS = 1_000;

/**
 * The running scope's noted businesses. `open` turns false when the scope settles: work it
 * started in the background (a timer, a lazily started loop) inherits the store, but must
 * not note into a set already bumped, so it counts as outside any scope.
 */
interface Scope {
  businesses: Set<string>;
  open: boolean;
}

const changed = new AsyncLocalStorage<Scope>();

/** `<prefix>:catalog:{<businessId>}:` — the hash tag keeps a business's keys in one slot. */
export const catalogKeyPrefix = (deps: AppDeps, businessId: string) =>
  `${deps.config.redis.prefix}:catalog:{${businessId}}:`;

export const versionKey = (deps: AppDeps, businessId: string) =>
  `${catalogKeyPrefix(deps, businessId)}v`;

/** randomUUID draws from a cached entropy pool: cheap enough to make one per read. */
export const freshToken = () => randomUUID();

/** Records that the running scope changes `businessId`'s products or stock. */
export function noteCatalogWrite(businessId: string): void {
  const scope = changed.getStore();
  if (!scope?.open) {
    throw new Error(
      'A catalog write ran outside deps.db.transaction or withCatalogBumps: its cached pages would stay stale',
    );
  }
  scope.businesses.add(businessId);
}

/**
 * Runs `work` in a scope whose noted writes bump their businesses' catalog versions once it
 * settles (success or failure). Nested scopes defer to the outermost: it settles later,
 * still before the answer.
 */
export async function withCatalogBumps<T>(deps: AppDeps, work: () => Promise<T>): Promise<T> {
  if (changed.getStore()?.open) return work();
  const scope: Scope = { businesses: new Set(), open: true };
  try {
    return await changed.run(scope, work);
  } finally {
    scope.open = false;
    if (scope.businesses.size > 0) await bumpCatalogVersions(deps, [...scope.businesses]);
  }
}

/**
 * Makes every `deps.db.transaction` a withCatalogBumps scope (createDeps calls it once):
 * the one place writers go through, so none can forget to bump.
 */
export function trackCatalogWrites(deps: AppDeps): void {
  const transaction = deps.db.transaction.bind(deps.db);
  deps.db.transaction = (run, config) => withCatalogBumps(deps, () => transaction(run, config));
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
