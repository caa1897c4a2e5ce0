import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AppDeps } from '../../deps.js';
import { jsonEtag, matchesIfNoneMatch } from '../../http/etag.js';
import { withTimeout } from '../../lib/timeout.js';
import {
  catalogKeyPrefix,
  freshToken,
  VERSION_TTL_SECONDS,
  versionKey,
} from './catalog-version.js';

/**
 * Catalog pages (GET /products, GET /products/{id}) cached in Redis as the JSON text and its
 * ETag, per business, catalog version (catalog-version.ts) and query.
 *
 * A read is one round trip (READ_PAGE): the version token, created when absent, and the
 * entry under it; when If-None-Match already names the entry's ETag the body is not even
 * returned, so a 304 costs one small script and touches neither PostgreSQL nor the body. On
 * a miss the page is rendered from PostgreSQL and stored under the token read BEFORE that
 * render, and only while that token is still current (STORE_PAGE): a render that raced a
 * write lands under the old token, which no read uses after the writer's bump.
 *
 * Redis failing (down, timeout, script error) makes the request render from PostgreSQL and
 * store nothing: never an error, never a page from a cache that could not be checked.
 *
 * Memory: entries expire after CATALOG_CACHE_TTL_SECONDS and are only stored under the
 * current version; a business holds at most the pages asked for within one TTL.
 *
 * Only writes that bump are seen: a row changed in PostgreSQL behind the services' back
 * (psql, a script without deps.db.transaction) shows in pages only after the next bump or
 * the TTL.
 */

// KEYS[1] version key, KEYS[2] the business's key prefix; ARGV: fresh token, version TTL,
// page key, If-None-Match ('' when none). Answers {version} on a miss, {version, etag} when
// If-None-Match may name the etag (the caller checks exactly), else {version, etag, body}.
// The entry key is built here from the version just read (one round trip): the hash tag in
// KEYS[2] keeps it in the same slot as KEYS[1].
const READ_PAGE = `
local version = redis.call('GET', KEYS[1])
if not version then
  version = ARGV[1]
  redis.call('SET', KEYS[1], version, 'EX', ARGV[2])
end
local entry = KEYS[2] .. 'p:' .. version .. ':' .. ARGV[3]
local etag = redis.call('HGET', entry, 'e')
if not etag then return {version} end
local wanted = ARGV[4]
if wanted ~= '' and (wanted == '*' or string.find(wanted, etag, 1, true)) then
  return {version, etag}
end
return {version, etag, redis.call('HGET', entry, 'b')}`;

// KEYS as READ_PAGE; ARGV: version, page key, etag, body, TTL. Stores only while the version
// is still current: a page rendered before a bump would never be read anyway.
const STORE_PAGE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local entry = KEYS[2] .. 'p:' .. ARGV[1] .. ':' .. ARGV[2]
redis.call('HSET', entry, 'e', ARGV[3], 'b', ARGV[4])
redis.call('EXPIRE', entry, ARGV[5])
return 1`;

/**
 * A Redis that stopped answering without closing the connection must not hold pages up:
 * past this the page is rendered by PostgreSQL (and not stored).
 */
const READ_TIMEOUT_MS = 250;

interface CatalogRedis {
  catalogReadPageBuffer(...args: (string | number)[]): Promise<(Buffer | null)[]>;
  catalogStorePage(...args: (string | number | Buffer)[]): Promise<number>;
}

/**
 * Part of every page key: raise it when the Product JSON changes shape, so during a rolling
 * deploy the old and new processes never serve each other's pages.
 */
const FORMAT = 1;

const defined = new WeakSet<Redis>();

function scripts(redis: Redis): CatalogRedis {
  if (!defined.has(redis)) {
    redis.defineCommand('catalogReadPage', { numberOfKeys: 2, lua: READ_PAGE });
    redis.defineCommand('catalogStorePage', { numberOfKeys: 2, lua: STORE_PAGE });
    defined.add(redis);
  }
  return redis as unknown as CatalogRedis;
}

/** A representation to send: its ETag, and its bytes unless the client already has them. */
export interface CachedEntity {
  etag: string;
  /** Absent only when If-None-Match names `etag` (answer 304). */
  body?: Buffer;
}

/**
 * The page named by `query` (any JSON value naming everything the page depends on), from
 * the cache or else rendered by `render` and cached.
 */
export async function cachedEntity(
  deps: AppDeps,
  businessId: string,
  query: unknown,
  ifNoneMatch: string,
  render: () => Promise<string>,
): Promise<CachedEntity> {
  const ttl = deps.config.redis.catalogCacheTtlSeconds;
  if (ttl === 0) return rendered(await render());
  const keys = [versionKey(deps, businessId), catalogKeyPrefix(deps, businessId)];
  const pageKey = createHash('sha1')
    .update(JSON.stringify([FORMAT, query]))
    .digest('base64url');
  const redis = scripts(deps.redis);
  let version: string | undefined;
  try {
    const [token, etag, body] = await withTimeout(
      redis.catalogReadPageBuffer(...keys, freshToken(), VERSION_TTL_SECONDS, pageKey, ifNoneMatch),
      READ_TIMEOUT_MS,
    );
    version = token?.toString();
    if (etag) {
      if (body) return { etag: etag.toString(), body };
      // The script's substring test said "maybe": only an exact match may skip the body.
      if (matchesIfNoneMatch(ifNoneMatch, etag.toString())) return { etag: etag.toString() };
    }
  } catch (error) {
    deps.logger.debug({ reason: (error as Error).message }, 'catalog cache read failed');
  }
  const entity = rendered(await render());
  await deps.catalogCacheHooks?.afterRender?.();
  if (version !== undefined) {
    // Not awaited: the answer does not depend on it, and a later read on this connection is
    // queued behind it anyway.
    redis
      .catalogStorePage(...keys, version, pageKey, entity.etag, entity.body, ttl)
      .catch((error: unknown) => {
        deps.logger.debug({ reason: (error as Error).message }, 'catalog cache store failed');
      });
  }
  return entity;
}

function rendered(json: string): Required<CachedEntity> {
  const body = Buffer.from(json);
  return { etag: jsonEtag(body), body };
}
