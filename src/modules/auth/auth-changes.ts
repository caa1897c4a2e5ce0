import type { Config } from '../../config.js';
import type { AppDeps } from '../../deps.js';
import { delay } from '../../lib/shutdown.js';

/**
 * Something the session check reads has changed: one session (revoked), every session of a
 * user (disabled, re-roled, locations changed, all sessions revoked) or of a business
 * (subscription, timezone). Caches of the check drop what it names.
 */
export interface AuthChange {
  kind: 'session' | 'user' | 'business';
  id: string;
}

const KINDS = new Set<string>(['session', 'user', 'business']);

/** The Redis channel every API process's auth cache listens on. */
export function authChangesChannel(config: Config): string {
  return `${config.redis.prefix}:auth-changes`;
}

/** `session:<id> user:<id> …`: ids never contain a space or a colon. */
export function encodeAuthChanges(changes: readonly AuthChange[]): string {
  return changes.map((change) => `${change.kind}:${change.id}`).join(' ');
}

/** The changes of a message; anything malformed is skipped (`undefined`: nothing readable). */
export function decodeAuthChanges(message: string): AuthChange[] | undefined {
  const changes: AuthChange[] = [];
  for (const part of message.split(' ')) {
    const [kind, id, extra] = part.split(':');
    if (!kind || !id || extra !== undefined || !KINDS.has(kind)) continue;
    changes.push({ kind: kind as AuthChange['kind'], id });
  }
  return changes.length > 0 ? changes : undefined;
}

/** Re-publishing a message Redis refused is tried this often… */
const RETRY_MS = 250;

/**
 * Announces committed changes: drops them from this process's cache at once, then publishes
 * them to every other process. Call it after the transaction commits (before, another
 * process could re-read and cache the old rows after dropping them). Never throws: with Redis
 * unreachable the publish is retried in the background until AUTH_CACHE_TTL_MS has passed,
 * after which no cache anywhere can still hold an entry read before the change.
 */
export async function announceAuthChanges(
  deps: Pick<AppDeps, 'config' | 'logger' | 'redis' | 'authCache'>,
  changes: readonly AuthChange[],
): Promise<void> {
  if (changes.length === 0) return;
  deps.authCache?.evict(changes);
  const channel = authChangesChannel(deps.config);
  const message = encodeAuthChanges(changes);
  const publish = () =>
    deps.redis.publish(channel, message).then(
      () => true,
      () => false,
    );
  if (await publish()) return;
  const giveUpAt = Date.now() + deps.config.auth.cache.ttlMs;
  if (Date.now() >= giveUpAt) return;
  deps.logger.warn(
    { changes: message },
    'cannot publish an auth change to Redis; retrying (other API processes may serve it from cache until then)',
  );
  void (async () => {
    while (Date.now() < giveUpAt) {
      await delay(RETRY_MS);
      if (await publish()) return;
    }
  })();
}
