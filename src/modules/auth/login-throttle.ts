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
 * Counts login attempts in Redis so every API process shares them (a fixed window from the
 * first attempt). An attempt takes its slot *before* the password is checked, atomically,
 * so a burst of parallel attempts cannot slip past the limit; a success gives its slot
 * back (and clears the per-email count). While Redis is down each process counts in
 * memory instead: limits then hold per process, and logins keep working.
 */
export class LoginThrottle {
  private readonly memory = new Map<string, Counter>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly settings: ThrottleSettings,
    private readonly now: () => number,
  ) {}

  /** Takes a slot for one attempt, or says how long to wait; nothing is hashed when limited. */
  async begin(email: string, ip: string): Promise<ThrottleVerdict> {
    const keys = this.keys(email, ip);
    const counters = (await this.incrementRedis(keys, 1)) ?? this.incrementMemory(keys, 1);
    const limits = [this.settings.maxFailuresPerEmail, this.settings.maxFailuresPerIp];
    let retryAfterMs = 0;
    counters.forEach((counter, index) => {
      if (counter.count > (limits[index] ?? 0)) {
        retryAfterMs = Math.max(retryAfterMs, counter.expiresAt - this.now());
      }
    });
    if (retryAfterMs <= 0) return { limited: false };
    // A refused attempt gives its slot back: it was never tried, and a flood of them must
    // not lock other accounts out of the same address.
    await this.release(keys);
    return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
  }

  /** The attempt succeeded: the per-email count starts over and the address slot is returned. */
  async succeeded(email: string, ip: string): Promise<void> {
    const [emailKey, ipKey] = this.keys(email, ip);
    this.memory.delete(emailKey);
    const ipCounter = this.liveMemory(ipKey);
    if (ipCounter) ipCounter.count = Math.max(0, ipCounter.count - 1);
    if (this.redis.status !== 'ready') return;
    try {
      await this.redis.multi().del(emailKey).decr(ipKey).exec();
    } catch {
      // a stale count only expires later
    }
  }

  private async release(keys: string[]): Promise<void> {
    if ((await this.incrementRedis(keys, -1)) === undefined) this.incrementMemory(keys, -1);
  }

  private keys(email: string, ip: string): [string, string] {
    // Emails are hashed: Redis keys should not carry personal data.
    const emailHash = hashToken(email.trim().toLowerCase()).slice(0, 32);
    return [`${this.prefix}:login:email-ip:${emailHash}:${ip}`, `${this.prefix}:login:ip:${ip}`];
  }

  /** INCRBY on each key (creating it with the window as TTL); undefined when Redis fails. */
  private async incrementRedis(keys: string[], by: number): Promise<Counter[] | undefined> {
    if (this.redis.status !== 'ready') return undefined;
    const windowMs = this.settings.windowSeconds * 1000;
    try {
      const pipeline = this.redis.multi();
      for (const key of keys) pipeline.set(key, 0, 'PX', windowMs, 'NX').incrby(key, by).pttl(key);
      const results = (await pipeline.exec()) ?? [];
      if (results.some(([error]) => error)) return undefined;
      return keys.map((_, index) => ({
        count: Number(results[index * 3 + 1]?.[1] ?? 0),
        expiresAt: this.now() + Math.max(0, Number(results[index * 3 + 2]?.[1] ?? 0)),
      }));
    } catch {
      return undefined;
    }
  }

  private incrementMemory(keys: string[], by: number): Counter[] {
    return keys.map((key) => {
      const counter = this.liveMemory(key) ?? {
        count: 0,
        expiresAt: this.now() + this.settings.windowSeconds * 1000,
      };
      counter.count = Math.max(0, counter.count + by);
      this.memory.set(key, counter);
      return counter;
    });
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
