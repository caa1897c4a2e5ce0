import { randomUUID } from 'node:crypto';
import type supertest from 'supertest';
import type { TestUser } from './factories.js';

/** Opens a location as `owner`; returns its body. */
export async function openLocation(
  http: supertest.Agent,
  owner: TestUser,
  name = `Branch ${randomUUID().slice(0, 8)}`,
): Promise<{ id: string; name: string }> {
  const response = await http
    .post('/locations')
    .set('Authorization', owner.auth)
    .send({ name })
    .expect(201);
  return response.body as { id: string; name: string };
}

export function transfer(
  http: supertest.Agent,
  user: TestUser,
  body: Record<string, unknown>,
  key: string = randomUUID(),
) {
  return http
    .post('/inventory/transfers')
    .set('Authorization', user.auth)
    .set('Idempotency-Key', key)
    .send(body);
}

export function assign(
  http: supertest.Agent,
  owner: TestUser,
  user: TestUser,
  locationIds: string[],
) {
  return http.patch(`/users/${user.id}`).set('Authorization', owner.auth).send({ locationIds });
}
