import { randomUUID } from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import type supertest from 'supertest';
import type { AppDeps } from '../../src/deps.js';
import { auditLog, outbox } from '../../src/db/schema/index.js';
import { passwordHashOperations } from '../../src/modules/auth/password.js';

export const PASSWORD = 'a-long-enough-password';

export const uniqueEmail = (label = 'user') => `${label}-${randomUUID()}@example.test`;

export interface AuthBody {
  user: { id: string; businessId: string; email: string; role: string; status: string };
  business: { id: string; name: string };
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

/** Registers a new business through the API and returns the auth body. */
export async function registerOwner(
  http: supertest.Agent,
  overrides: Record<string, unknown> = {},
): Promise<AuthBody> {
  const response = await http.post('/auth/register').send({
    businessName: 'Duka Test',
    name: 'Wanjiku Owner',
    email: uniqueEmail('owner'),
    password: PASSWORD,
    ...overrides,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as AuthBody;
}

export const bearer = (body: { accessToken: string }) => `Bearer ${body.accessToken}`;

/** The email outbox rows of one template sent to one address, newest first. */
export function emailsTo(deps: AppDeps, template: string, to: string) {
  return deps.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.kind, 'email'), eq(outbox.type, template)))
    .orderBy(desc(outbox.id))
    .then((rows) => rows.filter((row) => row.payload.to === to));
}

/** The `token` query parameter of a link, exactly as a browser would pass it on. */
export function tokenOf(link: unknown): string {
  const token = new URL(String(link)).searchParams.get('token');
  expect(token).toBeTruthy();
  return token!;
}

export function auditRows(deps: AppDeps, businessId: string) {
  return deps.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.businessId, businessId))
    .orderBy(auditLog.at, auditLog.id);
}

/** argon2 computations so far in this process (hash + verify). */
export async function hashCount(): Promise<number> {
  const metric = await passwordHashOperations.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

/** A clock tests can move forward. */
export function movableClock() {
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  return {
    clock,
    advance: (ms: number) => {
      offsetMs += ms;
    },
  };
}
