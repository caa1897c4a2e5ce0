import type { Redis } from 'ioredis';
import type { AppDeps } from '../../deps.js';
import { hashToken } from './opaque-token.js';

export interface ThrottleSettings {
  /** Failed logins per email and address within the window; the next one is refused. */
  maxFailuresPerEmail: number;
  /** Failed logins per address within the window (many accounts tried from one place). */
  maxFailuresPerIp: number;
  windowSeconds: number;
}

export type ThrottleVerdict = { limited: false } | { limited: true; retryAfterSeconds: number };

interface Counter {
  count: number;
  expiresAt: number;
}

/**
 * Counts failed logins in Redis so every API process shares them (fixed window from the
 * first failure). While Redis is down each process counts in memory instead: limits then
 * hold per process, and logins keep working rather than failing with the cache.
 */
export class LoginThrottle {
  private readonly memory = new Map<string, Counter>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly settings: ThrottleSettings,
    private readonly now: () => number,
  ) {}

  /** Whether this attempt may run at all (checked before any password hash is computed). */
  async check(email: string, ip: string): Promise<ThrottleVerdict> {
    const [emailKey, ipKey] = this.keys(email, ip);
    const limits: [string, number][] = [
      [emailKey, this.settings.maxFailuresPerEmail],
      [ipKey, this.settings.maxFailuresPerIp],
    ];
    const counters = await this.read([emailKey, ipKey]);
    let retryAfterMs = 0;
    limits.forEach(([, max], index) => {
      const counter = counters[index];
      if (counter && counter.count >= max) {
        retryAfterMs = Math.max(retryAfterMs, counter.expiresAt - this.now());
      }
    });
    return retryAfterMs > 0
      ? { limited: true, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) }
      : { limited: false };
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const keys = this.keys(email, ip);
    const windowMs = this.settings.windowSeconds * 1000;
    if (this.redis.status === 'ready') {
      try {
        const pipeline = this.redis.multi();
        for (const key of keys) pipeline.set(key, 0, 'PX', windowMs, 'NX').incr(key);
        await pipeline.exec();
        return;
      } catch {
        // fall through to the in-process count
      }
    }
    for (const key of keys) {
      const current = this.liveMemory(key);
      if (current) current.count += 1;
      else this.memory.set(key, { count: 1, expiresAt: this.now() + windowMs });
    }
  }

  /** A successful login clears the per-email count (not the per-address one). */
  async recordSuccess(email: string, ip: string): Promise<void> {
    const [emailKey] = this.keys(email, ip);
    this.memory.delete(emailKey);
    if (this.redis.status !== 'ready') return;
    try {
      await this.redis.del(emailKey);
    } catch {
      // a stale count only expires later
    }
  }

  private keys(email: string, ip: string): [string, string] {
    // Emails are hashed: Redis keys should not carry personal data.
    const emailHash = hashToken(email.trim().toLowerCase()).slice(0, 32);
    return [`${this.prefix}:login:email-ip:${emailHash}:${ip}`, `${this.prefix}:login:ip:${ip}`];
  }

  private async read(keys: string[]): Promise<(Counter | undefined)[]> {
    const remote = await this.readRedis(keys);
    // While Redis is down (or was, moments ago) the in-process counts also apply.
    return keys.map((key, index) => {
      const local = this.liveMemory(key);
      const shared = remote?.[index];
      if (!local) return shared;
      if (!shared) return local;
      return local.count >= shared.count ? local : shared;
    });
  }

  private async readRedis(keys: string[]): Promise<(Counter | undefined)[] | undefined> {
    if (this.redis.status !== 'ready') return undefined;
    try {
      const pipeline = this.redis.multi();
      for (const key of keys) pipeline.get(key).pttl(key);
      const results = (await pipeline.exec()) ?? [];
      return keys.map((_, index) => {
        const count = Number(results[index * 2]?.[1] ?? 0);
        const ttl = Number(results[index * 2 + 1]?.[1] ?? -2);
        return count > 0 && ttl > 0 ? { count, expiresAt: this.now() + ttl } : undefined;
      });
    } catch {
      return undefined;
    }
  }

  private liveMemory(key: string): Counter | undefined {
    const counter = this.memory.get(key);
    if (!counter) return undefined;
    if (counter.expiresAt <= this.now()) {
      this.memory.delete(key);
      return undefined;
    }
    return counter;
  }
}

const throttles = new WeakMap<AppDeps, LoginThrottle>();

/** The login throttle of one API process (one per deps, so tests' apps do not share memory). */
export function loginThrottleFor(deps: AppDeps): LoginThrottle {
  let throttle = throttles.get(deps);
  if (!throttle) {
    throttle = new LoginThrottle(
      deps.redis,
      deps.config.redis.prefix,
      deps.config.auth.loginThrottle,
      () => deps.clock().getTime(),
    );
    throttles.set(deps, throttle);
  }
  return throttle;
}
