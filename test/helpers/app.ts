import { afterAll, inject } from 'vitest';
import supertest from 'supertest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createDeps, closeDeps, type AppDeps } from '../../src/deps.js';
import type { RouteSpec } from '../../src/http/route.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import type { Clock } from '../../src/lib/clock.js';
import { allRoutes } from '../../src/routes.js';

/** The environment every test app starts from; override per test where needed. */
export function testEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: inject('databaseUrl'),
    DATABASE_POOL_MAX: '8',
    DATABASE_HOT_POOL_MAX: '8',
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: inject('redisPrefix'),
    JWT_SECRET: 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    RATE_LIMIT_MAX: '100000',
    PUBLIC_URL: 'http://127.0.0.1:3999',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // Many tests change users, sessions and businesses straight in the database and expect
    // the next request to see it: no session cache unless a test turns it on
    // (test/auth/session-cache.test.ts).
    AUTH_CACHE_TTL_MS: '0',
    ...overrides,
  };
}

export interface TestContext {
  config: Config;
  deps: AppDeps;
  app: App;
  /** supertest bound to the app (no network port). */
  http: supertest.Agent;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  routes?: RouteSpec[];
  clock?: Clock;
  /** A logger to use instead of the config's (e.g. one writing to memory). */
  logger?: Logger;
}

/**
 * A real app on the test database and Redis, closed after the file's tests. Each call
 * makes its own pool, so a test can run two "processes" side by side.
 */
export function createTestApp(options: TestAppOptions = {}): TestContext {
  const config = loadConfig(testEnv(options.env));
  const logger = options.logger ?? createLogger(config);
  const deps = createDeps({
    config,
    logger,
    databaseUrl: config.database.url!,
    clock: options.clock,
    cacheSessions: true,
  });
  const app = buildApp(deps, options.routes ?? allRoutes);
  const http = supertest.agent(app.callback());
  afterAll(async () => {
    await closeDeps(deps);
  });
  return { config, deps, app, http };
}
