import argon2 from 'argon2';

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

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

export function hashPassword(password: string): Promise<string> {
  return withHashSlot(() => argon2.hash(password, HASH_OPTIONS));
}

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  return withHashSlot(() => argon2.verify(hash, password).catch(() => false));
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
