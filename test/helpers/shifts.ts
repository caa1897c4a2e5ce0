import { randomUUID } from 'node:crypto';
import type supertest from 'supertest';
import type { TestUser } from './factories.js';

/** A valid POST /shifts body: a fresh id, a register of its own, opened a minute ago. */
export function shiftBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: randomUUID(),
    register: `Till ${randomUUID().slice(0, 8)}`,
    openedAt: new Date(Date.now() - 60_000).toISOString(),
    openingFloat: 500_000,
    ...overrides,
  };
}

export function openShift(http: supertest.Agent, user: TestUser, body: Record<string, unknown>) {
  return http.post('/shifts').set('Authorization', user.auth).send(body);
}

export function moveCash(
  http: supertest.Agent,
  user: TestUser,
  shiftId: string,
  body: Record<string, unknown>,
) {
  return http.post(`/shifts/${shiftId}/cash-movements`).set('Authorization', user.auth).send(body);
}

export function cashMovementBody(overrides: Record<string, unknown> = {}) {
  return {
    clientRequestId: randomUUID(),
    type: 'pay_out',
    amount: 20_000,
    note: 'Milk for the shop',
    ...overrides,
  };
}

export function closeShift(
  http: supertest.Agent,
  user: TestUser,
  shiftId: string,
  body: Record<string, unknown>,
) {
  return http.post(`/shifts/${shiftId}/close`).set('Authorization', user.auth).send(body);
}

export const closeBody = (countedCash: number, overrides: Record<string, unknown> = {}) => ({
  closedAt: new Date().toISOString(),
  countedCash,
  ...overrides,
});

export function shiftReport(http: supertest.Agent, user: TestUser, shiftId: string) {
  return http.get(`/shifts/${shiftId}/report`).set('Authorization', user.auth);
}
