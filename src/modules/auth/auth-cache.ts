import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Counter } from 'prom-client';
import type { Logger } from '../../lib/logger.js';
import { metricsRegistry } from '../../lib/metrics.js';
import { decodeAuthChanges, type AuthChange } from './auth-changes.js';
import type { AuthState, AuthStateIds } from './auth-lookup.repo.js';

/**
 * A change published anywhere is applied by every process within this: entries are served
 * only while this process has proof (an answered PING on the subscriber connection, sent
 * no longer ago than this) that it has received every message published before then.
 */
export const PROPAGATION_BOUND_MS = 1_000;
/** How often the subscriber connection is PINGed (well inside the bound above). */
const PING_EVERY_MS = 250;
/** A PING unanswered this long means a dead connection: drop it and connect again. */
const PING_GIVE_UP_MS = 3_000;

const lookups = new Counter({
  name: 'auth_cache_lookups_total',
  help: 'Session checks by the auth cache: hit (from memory), miss (read PostgreSQL), bypass (subscriber not current: read PostgreSQL)',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

interface Entry {
  userId: string;
  businessId: string;
  state: AuthState;
  /** performance.now() when read from PostgreSQL. */
  readAt: number;
}

export interface AuthCacheOptions {
  ttlMs: number;
  maxEntries: number;
  redisUrl: string;
  /** The channel announceAuthChanges() publishes on (authChangesChannel()). */
  channel: string;
  logger: Logger;
  /** Monotonic milliseconds (tests); performance.now() by default. */
  now?: () => number;
}

/**
 * The session check of authenticate(), cached per process for AUTH_CACHE_TTL_MS and keyed
 * by session id. Changes reach it through a dedicated Redis subscriber connection
 * (announceAuthChanges() publishes them after commit). While that connection cannot prove
 * itself current (down, reconnecting, PINGs unanswered for PROPAGATION_BOUND_MS) the cache is
 * bypassed: every request reads PostgreSQL, as without a cache. Entries cached before a
 * reconnect are dropped (messages sent meanwhile were lost).
 */
export class AuthCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly subscriber: Redis;
  private readonly now: () => number;
  /** Bumped by every change and connection event: a read that started before one is not kept. */
  private generation = 0;
  /** Bumped by every (re)connection: answers from an older connection prove nothing. */
  private connection = 0;
  private subscribed = false;
  /** When the newest answered PING (or the SUBSCRIBE) was sent. */
  private confirmedAt = Number.NEGATIVE_INFINITY;
  private pingSentAt: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private warned = false;

  constructor(private readonly options: AuthCacheOptions) {
    this.now = options.now ?? (() => performance.now());
    this.entries = new LRUCache({ max: options.maxEntries });
    this.subscriber = new Redis(options.redisUrl, {
      connectionName: 'auth-cache',
      // Subscribing and PINGs are driven from 'ready' and the timer, never queued or
      // replayed: a late answer from an old connection must not count as proof.
      enableOfflineQueue: false,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.subscriber.on('error', (error: Error) => {
      if (this.warned) return;
      this.warned = true;
      options.logger.warn(
        `auth cache: Redis subscriber is down (${error.message}); every request reads the session from PostgreSQL until it is back`,
      );
    });
    this.subscriber.on('ready', () => this.subscribe());
    this.subscriber.on('close', () => this.lost());
    this.subscriber.on('message', (_channel: string, message: string) => {
      const changes = decodeAuthChanges(message);
      if (changes) this.evict(changes);
    });
    this.timer = setInterval(() => this.ping(), PING_EVERY_MS);
    this.timer.unref();
  }

  /** Subscribed, and a PING sent within PROPAGATION_BOUND_MS has been answered. */
  isCurrent(): boolean {
    return this.subscribed && this.now() - this.confirmedAt <= PROPAGATION_BOUND_MS;
  }

  /** Entries held (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached state of a session, or `load()`'s (kept when valid). A cached session whose
   * expiry has passed is read again: a refresh may have extended it, and if not, the fresh
   * row refuses it.
   */
  async lookUp(
    ids: AuthStateIds,
    now: Date,
    load: () => Promise<AuthState | undefined>,
  ): Promise<AuthState | undefined> {
    const current = this.isCurrent();
    if (current) {
      const hit = this.entries.get(ids.sessionId);
      if (
        hit &&
        hit.userId === ids.userId &&
        hit.businessId === ids.businessId &&
        this.now() - hit.readAt < this.options.ttlMs &&
        hit.state.sessionExpiresAt.getTime() > now.getTime()
      ) {
        lookups.inc({ result: 'hit' });
        return hit.state;
      }
    }
    lookups.inc({ result: current ? 'miss' : 'bypass' });
    const generation = this.generation;
    const readAt = this.now();
    const state = await load();
    // Kept only if nothing changed while it was read (a change committed meanwhile may
    // already have been announced, and its eviction found nothing to drop).
    if (state && isValid(state, now) && generation === this.generation && this.isCurrent()) {
      this.entries.set(ids.sessionId, {
        userId: ids.userId,
        businessId: ids.businessId,
        state,
        readAt,
      });
    }
    return state;
  }

  /** Drops every entry a change names. */
  evict(changes: readonly AuthChange[]): void {
    this.generation += 1;
    for (const change of changes) {
      if (change.kind === 'session') {
        this.entries.delete(change.id);
        continue;
      }
      const field = change.kind === 'user' ? 'userId' : 'businessId';
      const doomed: string[] = [];
      for (const [sessionId, entry] of this.entries.entries()) {
        if (entry[field] === change.id) doomed.push(sessionId);
      }
      for (const sessionId of doomed) this.entries.delete(sessionId);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.subscribed = false;
    this.entries.clear();
    this.subscriber.disconnect();
  }

  private subscribe(): void {
    const connection = ++this.connection;
    const sentAt = this.now();
    this.subscriber.subscribe(this.options.channel).then(
      () => {
        if (connection !== this.connection) return;
        // Whatever was published while unsubscribed was missed: start empty.
        this.entries.clear();
        this.generation += 1;
        this.subscribed = true;
        this.confirmedAt = sentAt;
        this.pingSentAt = undefined;
        if (this.warned) this.options.logger.info('auth cache: Redis subscriber is back');
        this.warned = false;
      },
      () => {
        // Not subscribed on a connection that is up: start over on a new one.
        if (connection === this.connection) this.subscriber.disconnect(true);
      },
    );
  }

  private lost(): void {
    this.connection += 1;
    this.generation += 1;
    this.subscribed = false;
    this.pingSentAt = undefined;
    this.entries.clear();
  }

  private ping(): void {
    if (!this.subscribed) return;
    const sentAt = this.now();
    if (this.pingSentAt !== undefined) {
      if (sentAt - this.pingSentAt > PING_GIVE_UP_MS) {
        this.options.logger.warn('auth cache: Redis subscriber stopped answering; reconnecting');
        this.lost();
        this.subscriber.disconnect(true);
      }
      return;
    }
    const connection = this.connection;
    this.pingSentAt = sentAt;
    this.subscriber.ping().then(
      () => {
        if (connection !== this.connection) return;
        // Redis answers in order: every message published before this PING arrived first.
        this.confirmedAt = Math.max(this.confirmedAt, sentAt);
        this.pingSentAt = undefined;
      },
      () => {
        if (connection === this.connection) this.pingSentAt = undefined;
      },
    );
  }
}

/** What authenticate() accepts (anything else is never cached: it is re-read and refused). */
function isValid(state: AuthState, now: Date): boolean {
  return (
    state.userStatus === 'active' &&
    state.sessionRevokedAt === null &&
    state.sessionExpiresAt.getTime() > now.getTime()
  );
}
