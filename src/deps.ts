import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from './config.js';
import { createMailer, type Mailer } from './emails/mailer.js';
import { createDb, createPool, type Db } from './db/client.js';
import { systemClock, type Clock } from './lib/clock.js';
import type { Logger } from './lib/logger.js';
import { AccessTokens } from './modules/auth/access-token.js';
import { AuthCache } from './modules/auth/auth-cache.js';
import { authChangesChannel } from './modules/auth/auth-changes.js';
import { createStorage } from './storage/create-storage.js';
import type { Storage } from './storage/storage.js';
import type { PaymentProvider } from './mpesa/provider.js';
import { trackCatalogWrites } from './modules/catalog/catalog-version.js';

/** Shutdown state shared by the server and the readiness check. */
export interface Lifecycle {
  shuttingDown: boolean;
}

/**
 * Everything a request or job needs from the outside world, built once per process and
 * passed explicitly (tests build several, e.g. two apps on separate pools).
 */
export interface AppDeps {
  config: Config;
  logger: Logger;
  pool: pg.Pool;
  db: Db;
  /**
   * The hot path's pool: the few statements every sale or page runs (sale lookup and
   * write, session check, product page), all fixed-text prepared statements whose best
   * plan does not depend on the values. Its connections use generic plans only: in the
   * default mode PostgreSQL kept re-planning the sale write (a 20-part statement) for
   * each call, and `force_generic_plan` measured −20 % PostgreSQL CPU per sale with
   * `pnpm bench:ab` (bench/README.md). A pool of its own because other queries (reports,
   * search, exports) do want plans made for their values.
   */
  hotPool: pg.Pool;
  hotDb: Db;
  /** Commands fail fast while Redis is down; callers fall back or answer 503. */
  redis: Redis;
  clock: Clock;
  accessTokens: AccessTokens;
  lifecycle: Lifecycle;
  /** Files (product images, exports): local disk or S3-compatible, from the config. */
  storage: Storage;
  /** M-Pesa by default (built from config on first use, see mpesa/mpesa-provider.ts). */
  paymentProvider?: PaymentProvider;
  /** Outgoing email (SMTP, or files in development); swappable in tests. */
  mailer?: Mailer;
  /** The session check's cache (API processes with AUTH_CACHE_TTL_MS > 0; auth-cache.ts). */
  authCache?: AuthCache;
  /** Tests only: pauses inside the catalog cache to force an interleaving (catalog-cache.ts). */
  catalogCacheHooks?: { afterRender?: () => Promise<void> };
}

export interface CreateDepsOptions {
  config: Config;
  logger: Logger;
  databaseUrl: string;
  clock?: Clock;
  applicationName?: string;
  /** Defaults to the storage the config names (createStorage). */
  storage?: Storage;
  mailer?: Mailer;
  /**
   * Serves HTTP requests: cache the session check (when AUTH_CACHE_TTL_MS > 0), with its own
   * Redis subscriber connection. The worker and scripts publish changes but keep no cache.
   */
  cacheSessions?: boolean;
}

export function createDeps(options: CreateDepsOptions): AppDeps {
  const { config, logger } = options;
  const pool = createPool({
    url: options.databaseUrl,
    poolMax: config.database.poolMax,
    applicationName: options.applicationName,
  });
  const hotPool = createPool({
    url: options.databaseUrl,
    poolMax: config.database.hotPoolMax,
    applicationName: `${options.applicationName ?? 'backend-api'}-hot`,
    genericPlans: true,
    sessionOptions: config.database.sessionOptions,
  });
  const deps: AppDeps = {
    config,
    logger,
    pool,
    db: createDb(pool),
    hotPool,
    hotDb: createDb(hotPool),
    redis: createRedis(config, logger),
    clock: options.clock ?? systemClock,
    accessTokens: new AccessTokens(config.auth),
    lifecycle: { shuttingDown: false },
    storage: options.storage ?? createStorage(config),
    mailer: options.mailer ?? createMailer(config, logger),
    authCache:
      options.cacheSessions && config.auth.cache.ttlMs > 0
        ? new AuthCache({
            ttlMs: config.auth.cache.ttlMs,
            maxEntries: config.auth.cache.maxEntries,
            redisUrl: config.redis.url,
            channel: authChangesChannel(config),
            logger,
          })
        : undefined,
  };
  // Every transaction that changes products or stock bumps the catalog version after it.
  trackCatalogWrites(deps);
  return deps;
}

/**
 * The API's Redis connection: commands fail at once while disconnected (no offline queue),
 * so a Redis outage degrades rate limiting and readiness instead of hanging requests.
 */
export function createRedis(config: Config, logger: Logger): Redis {
  const redis = new Redis(config.redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let warned = false;
  redis.on('error', (error: Error) => {
    if (warned) return;
    warned = true;
    // The reason goes in the message, not as an `err` object: pretty logs print an error as
    // a block of lines, and this is meant to be the one line an outage produces.
    logger.warn(
      `Redis is not answering at ${redactUrl(config.redis.url)} (${error.message}): rate limiting falls back to memory, /ready reports redis down and jobs wait in the outbox. ` +
        'Start one with `redis-server` (or `docker compose up -d redis`), or set REDIS_URL.',
    );
  });
  redis.on('ready', () => {
    if (warned) logger.info('Redis is answering again');
    warned = false;
  });
  return redis;
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  deps.authCache?.close();
  deps.redis.disconnect();
  deps.mailer?.close();
  await deps.storage.close?.();
  await Promise.all([deps.pool.end(), deps.hotPool.end()]);
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}
