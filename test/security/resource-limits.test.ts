import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { ZodObject } from 'zod';
import type { RouteSpec } from '../../src/http/route.js';
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  listen,
} from '../../src/http/server.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually } from '../helpers/jobs.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { businessSnapshot, expectProblem, routeKey } from '../helpers/security.js';

/*
 * OWASP API4 (unrestricted resource consumption), table-driven and generated from the
 * registry where the registry knows the limit: every JSON route's own body limit (413 just
 * above it, not just below), every list's page cap, every batch's item cap, and the real
 * server's slow-client timeouts. Upload size (413, nothing stored) is proven in
 * test/catalog/images.test.ts ("a 6 MB file → 413…", "without a Content-Length…").
 */

const { http, deps, app } = createTestApp();
const shop = await createBusiness(deps);
const PLACEHOLDER = '01900000-0000-7000-8000-000000000000';

/** '16kb' → 16384, '5mb' → 5242880 (the body parser's units). */
function parseLimit(limit: string): number {
  const match = /^(\d+)(kb|mb)$/.exec(limit);
  if (!match) throw new Error(`unexpected body limit ${limit}`);
  return Number(match[1]) * (match[2] === 'kb' ? 1024 : 1024 * 1024);
}

function request(route: RouteSpec, path: string) {
  let call = http[route.method](path);
  if (route.access !== 'public') call = call.set('Authorization', shop.owner.auth);
  if (route.idempotency) call = call.set('Idempotency-Key', randomUUID());
  return call;
}

const jsonRoutes = allRoutes.filter(
  (route) => route.request?.body !== undefined && route.bodyType !== 'multipart',
);

describe('body size: each JSON route refuses a body over its own limit with 413', () => {
  for (const route of jsonRoutes) {
    const limit = parseLimit(route.bodyLimit ?? '1mb');
    it(`${routeKey(route)}: ${limit + 1} bytes → 413, ${limit - 64} bytes → read (not 413)`, async () => {
      const path = route.path.replace(/\{[^}]+\}/g, PLACEHOLDER);
      const padded = (size: number) => `{"pad":"${'x'.repeat(size - 10)}"}`;
      const before = await businessSnapshot(deps.pool, shop.id);
      const over = await request(route, path)
        .set('Content-Type', 'application/json')
        .send(padded(limit + 1));
      expectProblem(over, 413, 'PAYLOAD_TOO_LARGE', routeKey(route));
      const under = await request(route, path)
        .set('Content-Type', 'application/json')
        .send(padded(limit - 64));
      // Read and refused by the schema (or, for the raw M-Pesa callback, by its unknown token).
      expect(under.status, `${routeKey(route)}: ${under.text.slice(0, 200)}`).not.toBe(413);
      expect([400, 404]).toContain(under.status);
      expect(await businessSnapshot(deps.pool, shop.id)).toEqual(before);
    });
  }
});

describe('pagination: every list caps its page', () => {
  // API.md "Lists": above 200 is clamped to 200; values the schema cannot read are 400.
  // A list is any route answering {data, nextCursor}: each must take a capped limit.
  const lists = allRoutes.filter((route) => {
    const schema = route.responses[200]?.schema;
    return schema instanceof ZodObject && 'nextCursor' in schema.shape;
  });
  let webhookId = '';

  it('every list of the registry takes a limit', () => {
    expect(lists.length).toBeGreaterThan(5);
    for (const route of lists) {
      expect(route.request?.query?.shape.limit, routeKey(route)).toBeDefined();
    }
  });

  // 205 categories and 205 tracked low-stock products (each with its opening movement), so
  // four lists hold more than a page.
  it('clamps limit=9999 to 200 rows with a next cursor', async () => {
    await deps.pool.query(
      `insert into categories (id, business_id, name)
       select gen_random_uuid(), $1, 'Cat ' || n from generate_series(1, 205) n`,
      [shop.id],
    );
    for (let index = 0; index < 205; index++) {
      await insertProduct(deps, shop.id, shop.owner.id, { stockQuantity: 1, lowStockThreshold: 5 });
    }
    for (const path of [
      '/categories',
      '/products',
      '/inventory/movements',
      '/inventory/low-stock',
    ]) {
      const response = await http.get(`${path}?limit=9999`).set('Authorization', shop.owner.auth);
      expect({ path, status: response.status, rows: response.body.data?.length }).toEqual({
        path,
        status: 200,
        rows: 200,
      });
      expect(response.body.nextCursor, path).toEqual(expect.any(String));
    }
  });

  /** The owner of a nested list (a webhook's deliveries, a customer's statement). */
  async function parentId(path: string): Promise<string> {
    if (!path.includes('{id}')) return '';
    if (path.startsWith('/customers/')) {
      const created = await http
        .post('/customers')
        .set('Authorization', shop.owner.auth)
        .send({ name: 'Limits customer' });
      return created.body.id as string;
    }
    if (!webhookId) {
      const created = await http
        .post('/webhooks')
        .set('Authorization', shop.owner.auth)
        .send({ url: 'http://127.0.0.1:9/hook', events: ['*'] });
      webhookId = created.body.id as string;
    }
    return webhookId;
  }

  const refused = ['-1', '0x10', 'abc', '1.5', '1e3', '%00'];
  for (const route of lists) {
    it(`${routeKey(route)}: limit=9999 → ≤ 200 rows; limit ∈ {${refused.join(', ')}} → 400 query.limit; forged cursor → 400`, async () => {
      const path = route.path.replace('{id}', await parentId(route.path));
      const clamped = await request(route, `${path}?limit=9999`);
      expect(clamped.status, clamped.text.slice(0, 200)).toBe(200);
      expect(clamped.body.data.length).toBeLessThanOrEqual(200);
      // Absurd sizes: clamped like any value above 200, or refused by a digit cap — never more.
      const huge = await request(route, `${path}?limit=99999999999`);
      expect([200, 400], huge.text.slice(0, 200)).toContain(huge.status);
      if (huge.status === 200) expect(huge.body.data.length).toBeLessThanOrEqual(200);
      for (const value of refused) {
        const response = await request(route, `${path}?limit=${value}`);
        expectProblem(response, 400, 'VALIDATION_FAILED', `${path}?limit=${value}`);
        expect(response.body.errors).toContainEqual(
          expect.objectContaining({ path: 'query.limit' }),
        );
      }
      const forged = await request(route, `${path}?cursor=${'A'.repeat(40)}`);
      expectProblem(forged, 400, 'VALIDATION_FAILED', `${path} forged cursor`);
    });
  }
});

describe('batch sizes: arrays are capped by the schema', () => {
  const product = () => insertProduct(deps, shop.id, shop.owner.id);
  const CASES: {
    name: string;
    send: () => Promise<supertest.Response>;
    path: string;
  }[] = [
    {
      name: 'POST /sales/sync with 101 sales',
      path: 'sales',
      send: async () => {
        const p = await product();
        return http
          .post('/sales/sync')
          .set('Authorization', shop.cashier.auth)
          .send({ sales: Array.from({ length: 101 }, () => saleBody([{ product: p }])) });
      },
    },
    {
      name: 'POST /sales with 201 lines',
      path: 'lines',
      send: async () => {
        const p = await product();
        const body = saleBody(Array.from({ length: 201 }, () => ({ product: p })));
        return http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
      },
    },
    {
      name: 'POST /sales with 11 payments',
      path: 'payments',
      send: async () => {
        const p = await product();
        const body = saleBody([{ product: p }], {
          payments: Array.from({ length: 11 }, () => ({ method: 'cash', amount: 1000 })),
        });
        return http.post('/sales').set('Authorization', shop.cashier.auth).send(body);
      },
    },
    {
      name: 'POST /inventory/adjustments with 101 items',
      path: 'items',
      send: async () => {
        const p = await product();
        return http
          .post('/inventory/adjustments')
          .set('Authorization', shop.owner.auth)
          .set('Idempotency-Key', randomUUID())
          .send({
            items: Array.from({ length: 101 }, () => ({
              productId: p.id,
              type: 'receive',
              quantity: 1,
            })),
          });
      },
    },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name} → 400 naming ${testCase.path}, nothing written`, async () => {
      const before = await businessSnapshot(deps.pool, shop.id);
      const response = await testCase.send();
      const after = await businessSnapshot(deps.pool, shop.id);
      expectProblem(response, 400, 'VALIDATION_FAILED', testCase.name);
      expect(response.body.errors).toContainEqual(
        expect.objectContaining({ path: testCase.path, code: 'too_big' }),
      );
      // The product the case made (and its opening stock) is the only change.
      const made = { products: '', product_stock: '', stock_movements: '', stock_levels: '' };
      expect({ ...after, ...made }).toEqual({ ...before, ...made });
    });
  }
});

describe('slow clients against the real HTTP server (src/http/server.ts)', () => {
  const servers: Awaited<ReturnType<typeof listen>>[] = [];
  afterAll(async () => {
    for (const server of servers) {
      server.server.closeAllConnections();
      await new Promise((resolve) => server.server.close(resolve));
    }
  });

  const start = async (options: { headersTimeoutMs?: number; requestTimeoutMs?: number }) => {
    const running = await listen(app, {
      host: '127.0.0.1',
      port: 0,
      lifecycle: { shuttingDown: false },
      ...options,
    });
    servers.push(running);
    return running;
  };

  /** Opens a raw socket and writes `head`, then one header line every 100 ms, forever. */
  const trickle = (port: number, head: string, line: string) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearInterval(timer);
    });
    socket.write(head);
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(line);
    }, 100);
    return {
      state: () => ({ closed, received }),
      destroy: () => {
        clearInterval(timer);
        socket.destroy();
      },
    };
  };

  it('defaults to 20 s for the request head and 60 s for the whole request', async () => {
    const running = await start({});
    expect(running.server.headersTimeout).toBe(DEFAULT_HEADERS_TIMEOUT_MS);
    expect(running.server.requestTimeout).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(DEFAULT_HEADERS_TIMEOUT_MS).toBe(20_000);
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(60_000);
  });

  it('cuts off a client trickling its headers (408), while others are served', async () => {
    const running = await start({ headersTimeoutMs: 1_000, requestTimeoutMs: 3_000 });
    const slow = trickle(running.port, 'GET /health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n');
    try {
      const served = await fetch(`http://127.0.0.1:${running.port}/health`);
      expect(served.status).toBe(200);
      // Still trickling when cut: only the server's timeout can have closed it.
      const cut = await eventually(() => {
        const state = slow.state();
        return state.closed && state;
      }, 15_000);
      expect(cut.received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      slow.destroy();
    }
  });

  it('cuts off a client trickling its body after quick headers (408), nothing written', async () => {
    const running = await start({ headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 });
    const before = await businessSnapshot(deps.pool, shop.id);
    const slow = trickle(
      running.port,
      'POST /categories HTTP/1.1\r\nHost: x\r\n' +
        `Authorization: ${shop.owner.auth}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 100000\r\n\r\n{"name":"',
      'x',
    );
    try {
      const cut = await eventually(() => {
        const state = slow.state();
        return state.closed && state;
      }, 15_000);
      expect(cut.received).toMatch(/^HTTP\/1\.1 408/);
      expect(await businessSnapshot(deps.pool, shop.id)).toEqual(before);
    } finally {
      slow.destroy();
    }
  });
});
