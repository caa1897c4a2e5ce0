import argon2 from 'argon2';
import { Counter } from 'prom-client';
import { metricsRegistry } from '../../lib/metrics.js';

/** OWASP's argon2id minimum (m=19 MiB, t=2, p=1): ~40 ms a hash on this hardware. */
const HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * At most this many hashes run at once per process; the rest wait their turn. Each takes
 * 19 MiB and a libuv thread, so a login flood queues instead of exhausting memory.
 */
const MAX_CONCURRENT_HASHES = 4;
let running = 0;
const waiting: (() => void)[] = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) {
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running += 1;
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/**
 * Every argon2 computation, by operation. Operators see hashing load; tests use it to prove
 * a throttled login computed no hash.
 */
export const passwordHashOperations = new Counter({
  name: 'auth_password_hash_operations_total',
  help: 'argon2id computations (hash and verify) started by this process',
  labelNames: ['operation'] as const,
  registers: [metricsRegistry],
});

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

export function hashPassword(password: string): Promise<string> {
  passwordHashOperations.inc({ operation: 'hash' });
  return withHashSlot(() => argon2.hash(password, HASH_OPTIONS));
}

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  passwordHashOperations.inc({ operation: 'verify' });
  return withHashSlot(() => argon2.verify(hash, password).catch(() => false));
}

/** Whether a stored hash was made with weaker parameters than today's (re-hash it on login). */
export function passwordNeedsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, HASH_OPTIONS);
  } catch {
    return true;
  }
}

/**
 * A real hash of a random password, verified against when the email is unknown, so an
 * unknown email and a wrong password take the same time.
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(`dummy-${Math.random().toString(36)}-${Date.now()}`);
  return dummyHash;
}
