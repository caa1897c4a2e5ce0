import { describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';

const { http } = createTestApp();
const PLACEHOLDER_ID = '01900000-0000-7000-8000-000000000000';

const concretePath = (path: string) => path.replace(/\{[^}]+\}/g, PLACEHOLDER_ID);

describe('every route in the registry', () => {
  it('has a unique operationId and method+path', () => {
    const ids = allRoutes.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const keys = allRoutes.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  // Generated from the router: a route added later cannot skip the authentication check.
  for (const route of allRoutes.filter((candidate) => candidate.access !== 'public')) {
    it(`${route.method.toUpperCase()} ${route.path} answers 401 without a token`, async () => {
      const response = await http[route.method](concretePath(route.path));
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    });
  }

  it('is documented in /openapi.json exactly', async () => {
    const document = (await http.get('/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(
      allRoutes.map((route) => `${route.method} ${route.path}`).sort(),
    );
  });
});
