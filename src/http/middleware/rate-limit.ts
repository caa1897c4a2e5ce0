import type { Context, Middleware, Next } from 'koa';
import ratelimit from 'koa-ratelimit';
import type { Redis } from 'ioredis';
import type { AppContextExtensions, AppState } from '../context.js';

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  maxPerMinute: number;
}

/** Operators' probes and scrapes: never limited (the OpenAPI document says so too). */
export const RATE_LIMIT_EXEMPT_PATHS: ReadonlySet<string> = new Set([
  '/health',
  '/ready',
  '/metrics',
]);

/**
 * The general per-client limit (RATE_LIMIT_MAX requests a minute per address). Shared
 * across API processes through Redis; while Redis is down each process counts in memory,
 * so the service keeps answering.
 */
export function rateLimit(options: RateLimitOptions): Middleware<AppState, AppContextExtensions> {
  const common = {
    duration: 60_000,
    max: options.maxPerMinute,
    id: (ctx: Context) => ctx.ip,
    throw: true,
    whitelist: (ctx: Context) => RATE_LIMIT_EXEMPT_PATHS.has(ctx.path),
  };
  const shared = ratelimit({
    ...common,
    driver: 'redis',
    db: options.redis,
    namespace: `${options.prefix}:ratelimit`,
  });
  const local = ratelimit({ ...common, driver: 'memory', db: new Map() });

  return async (ctx, next: Next) => {
    const koaCtx = ctx as unknown as Context;
    if (options.redis.status !== 'ready') {
      await local(koaCtx, next);
      return;
    }
    const downstream = { reached: false };
    try {
      await shared(koaCtx, () => {
        downstream.reached = true;
        return next();
      });
    } catch (error) {
      // Redis failing mid-check: count locally instead of failing the request.
      const limited = (error as { status?: number }).status === 429;
      if (downstream.reached || limited) throw error;
      await local(koaCtx, next);
    }
  };
}
