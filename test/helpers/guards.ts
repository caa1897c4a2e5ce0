import type supertest from 'supertest';
import type { Role } from '../../src/db/schema/index.js';
import type { TestBusiness } from './factories.js';
import { expectProblem } from './problem.js';

export interface GuardedRoute {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** A path naming a resource of business `owner` (or a collection path). */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Roles the route allows; every other role must be answered 403. */
  allowed: readonly Role[];
  /**
   * True when `path` names one of the owner business's resources: a user of another
   * business, with an allowed role, must then get 404 (never 403, never data).
   */
  namesResource: boolean;
}

const ROLES: readonly Role[] = ['owner', 'manager', 'cashier'];

function send(http: supertest.Agent, route: GuardedRoute, auth?: string) {
  let request = http[route.method](route.path);
  for (const [name, value] of Object.entries(route.headers ?? {}))
    request = request.set(name, value);
  if (auth) request = request.set('Authorization', auth);
  return route.body === undefined ? request : request.send(route.body as object);
}

/**
 * The shared 401 / 403 / other-business-404 checks every authenticated route gets:
 * no token and a forged token → 401; each role outside `allowed` → 403; a user of another
 * business → 404 for this business's resource.
 */
export async function expectRouteGuards(
  http: supertest.Agent,
  businesses: { owner: TestBusiness; other: TestBusiness },
  route: GuardedRoute,
): Promise<void> {
  expectProblem(await send(http, route), 401, 'UNAUTHENTICATED');
  expectProblem(await send(http, route, 'Bearer not.a.jwt'), 401, 'UNAUTHENTICATED');

  for (const role of ROLES.filter((candidate) => !route.allowed.includes(candidate))) {
    expectProblem(await send(http, route, businesses.owner[role].auth), 403, 'FORBIDDEN');
  }

  if (route.namesResource) {
    const outsider = businesses.other[route.allowed[0] ?? 'owner'];
    expectProblem(await send(http, route, outsider.auth), 404, 'NOT_FOUND');
  }
}
