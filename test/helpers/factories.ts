import { randomUUID } from 'node:crypto';
import type { AppDeps } from '../../src/deps.js';
import { authSessions, businesses, users, type Role } from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { asCaller, type Caller } from '../../src/modules/auth/caller.js';
import { hashPassword } from '../../src/modules/auth/password.js';
import { permissionsOf } from '../../src/modules/auth/permissions.js';
import { trialEnd } from '../../src/modules/business/subscription.rules.js';

export const TEST_PASSWORD = 'correct-horse-battery-staple';

// Hashing costs ~40 ms; every factory user shares one hash of TEST_PASSWORD.
let passwordHash: Promise<string> | undefined;
const sharedHash = () => (passwordHash ??= hashPassword(TEST_PASSWORD));

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  sessionId: string;
  token: string;
  /** `Authorization` header value. */
  auth: string;
  /** The user as a service's caller (what authenticate() makes of `auth`). */
  caller: Caller;
}

export interface TestBusiness {
  id: string;
  name: string;
  owner: TestUser;
  manager: TestUser;
  cashier: TestUser;
  /** Another cashier, for "own sales only" checks. */
  cashier2: TestUser;
}

export interface BusinessOverrides {
  name?: string;
  currentPeriodEnd?: Date;
  subscriptionPlan?: 'monthly' | 'annual' | null;
  timezone?: string;
}

/** A fresh business with an owner, a manager and two cashiers, each signed in. */
export async function createBusiness(
  deps: AppDeps,
  overrides: BusinessOverrides = {},
): Promise<TestBusiness> {
  const id = newId();
  const name = overrides.name ?? `Test Shop ${id.slice(-6)}`;
  const now = deps.clock();
  await deps.db.insert(businesses).values({
    id,
    name,
    timezone: overrides.timezone ?? 'Africa/Nairobi',
    subscriptionPlan: overrides.subscriptionPlan ?? null,
    currentPeriodEnd: overrides.currentPeriodEnd ?? trialEnd(now),
  });
  const [owner, manager, cashier, cashier2] = await Promise.all(
    (['owner', 'manager', 'cashier', 'cashier'] as const).map((role) =>
      createUser(deps, id, role, undefined, overrides.timezone),
    ),
  );
  return { id, name, owner: owner!, manager: manager!, cashier: cashier!, cashier2: cashier2! };
}

/** A user of the business with a live session and an access token. */
export async function createUser(
  deps: AppDeps,
  businessId: string,
  role: Role,
  name?: string,
  businessTimezone = 'Africa/Nairobi',
): Promise<TestUser> {
  const userId = newId();
  const email = `${role}-${randomUUID()}@example.test`;
  await deps.db.insert(users).values({
    id: userId,
    businessId,
    email,
    name: name ?? `${role[0]!.toUpperCase()}${role.slice(1)} ${userId.slice(-4)}`,
    passwordHash: await sharedHash(),
    role,
  });
  const sessionId = newId();
  await deps.db.insert(authSessions).values({
    id: sessionId,
    userId,
    businessId,
    expiresAt: new Date(deps.clock().getTime() + deps.config.auth.refreshTokenTtlSeconds * 1000),
  });
  const token = await deps.accessTokens.sign({ userId, businessId, role, sessionId }, deps.clock());
  const caller = asCaller({
    businessId,
    userId,
    sessionId,
    role,
    locationIds: [],
    permissions: permissionsOf(role),
    businessTimezone,
  });
  return { id: userId, email, role, sessionId, token, auth: `Bearer ${token}`, caller };
}
