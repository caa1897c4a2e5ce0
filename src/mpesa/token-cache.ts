import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError, serviceUnavailable } from '../lib/errors.js';

export interface FetchedToken {
  accessToken: string;
  expiresInSeconds: number;
}

export interface TokenCacheOptions {
  /** Refresh this long before Daraja's expiry, so no request carries a dying token. */
  refreshMarginSeconds?: number;
  lockMs?: number;
  waitMs?: number;
}

// Deletes the key only while it still holds what we expect (our lock, or the token we saw).
const DELETE_IF_EQUAL = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One OAuth token shared by every API and worker process through Redis. Daraja invalidates
 * the previous token whenever a new one is issued, so two processes fetching their own
 * would keep breaking each other: refreshes are single-flight behind a Redis lock (and an
 * in-process promise), and a token is only replaced when the one that failed is still current.
 */
export class SharedTokenCache {
  private inflight: Promise<string> | undefined;
  private readonly lockKey: string;
  private readonly margin: number;
  private readonly lockMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly fetchToken: () => Promise<FetchedToken>,
    options: TokenCacheOptions = {},
  ) {
    this.lockKey = `${key}:lock`;
    this.margin = options.refreshMarginSeconds ?? 60;
    this.lockMs = options.lockMs ?? 15_000;
    this.waitMs = options.waitMs ?? 20_000;
  }

  /** The current token, fetching one (once, across processes) when there is none. */
  async get(): Promise<string> {
    const cached = await this.guard(() => this.redis.get(this.key));
    if (cached) return cached;
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Forgets `token` after Daraja refused it, unless another process already replaced it. */
  async invalidate(token: string): Promise<void> {
    await this.guard(() => this.redis.eval(DELETE_IF_EQUAL, 1, this.key, token));
  }

  private async refresh(): Promise<string> {
    const owner = randomUUID();
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const acquired = await this.guard(() =>
        this.redis.set(this.lockKey, owner, 'PX', this.lockMs, 'NX'),
      );
      if (acquired === 'OK') {
        try {
          // Another process may have refreshed between our miss and our lock.
          const fresh = await this.guard(() => this.redis.get(this.key));
          if (fresh) return fresh;
          const { accessToken, expiresInSeconds } = await this.fetchToken();
          const ttl = Math.max(1, Math.floor(expiresInSeconds - this.margin));
          await this.guard(() => this.redis.set(this.key, accessToken, 'EX', ttl));
          return accessToken;
        } finally {
          await this.redis.eval(DELETE_IF_EQUAL, 1, this.lockKey, owner).catch(() => undefined);
        }
      }
      await sleep(50);
      const cached = await this.guard(() => this.redis.get(this.key));
      if (cached) return cached;
      if (Date.now() > deadline) {
        throw serviceUnavailable('Timed out waiting for an M-Pesa access token; retry shortly');
      }
    }
  }

  /**
   * The API's Redis client refuses commands while (re)connecting instead of queueing them;
   * a process that just started waits briefly for it rather than failing its first payment.
   */
  private async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, 2_000);
      this.redis.once('ready', done);
    });
  }

  private async guard<T>(command: () => Promise<T>): Promise<T> {
    try {
      await this.ready();
      return await command();
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw serviceUnavailable(
        'The M-Pesa token cache (Redis) is unavailable; retry shortly',
        error,
      );
    }
  }
}
