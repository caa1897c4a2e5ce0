import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createDeliveryAgent } from '../../src/modules/webhooks/url-guard.js';
import { postWebhook } from '../../src/modules/webhooks/webhook-delivery.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { countSaleRows, insertProduct, saleBody } from '../helpers/sales-factories.js';
import { businessSnapshot, expectProblem } from '../helpers/security.js';

/*
 * The remaining rows of the research catalogue (docs/security-cases.md) that no other file
 * proves, each a table: hostile numbers and nesting in a sale (cases 4, 6), Unicode names
 * (8), sale timestamps (35), reset links under a spoofed Host (22), function-level refusals
 * on real resources with the database unchanged (17), upload content checks (31) and a
 * hostile webhook receiver (30).
 */

const storageDir = mkdtempSync(path.join(os.tmpdir(), 'bapi-edges-'));
const { http, deps } = createTestApp({ env: { STORAGE_LOCAL_DIR: storageDir } });
const shop = await createBusiness(deps);
const product = await insertProduct(deps, shop.id, shop.owner.id);

const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('hostile numbers and shapes in a sale (cases 4, 6) → 400 naming the field, no sale', () => {
  const line = { productId: product.id, quantity: 1 };
  const CASES: { name: string; body: () => string; path: string | null }[] = [
    {
      name: '10 000-deep nested array as a line',
      body: () =>
        JSON.stringify(saleBody([{ product }])).replace(
          /"lines":\[/,
          `"lines":[${nested(10_000)},`,
        ),
      path: 'lines.0',
    },
    {
      name: '10 000 lines',
      body: () => JSON.stringify(saleBody([{ product }], { lines: Array(10_000).fill(line) })),
      path: 'lines',
    },
    { name: 'quantity 1e308', body: () => withLine({ quantity: 1e308 }), path: 'lines.0.quantity' },
    { name: 'quantity "1e3"', body: () => withLine({ quantity: '1e3' }), path: 'lines.0.quantity' },
    { name: 'quantity "NaN"', body: () => withLine({ quantity: 'NaN' }), path: 'lines.0.quantity' },
    {
      name: 'quantity "Infinity"',
      body: () => withLine({ quantity: 'Infinity' }),
      path: 'lines.0.quantity',
    },
    {
      name: 'quantity 0.0001',
      body: () => withLine({ quantity: 0.0001 }),
      path: 'lines.0.quantity',
    },
    {
      name: 'unitPrice 0.3 (float money)',
      body: () => withLine({ unitPrice: 0.3 }),
      path: 'lines.0.unitPrice',
    },
    {
      name: 'unitPrice 2^53+1',
      body: () => withLine({ unitPrice: 2 ** 53 + 1 }),
      path: 'lines.0.unitPrice',
    },
  ];
  function withLine(changes: Record<string, unknown>) {
    return JSON.stringify(saleBody([{ product }], { lines: [{ ...line, ...changes }] }));
  }
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const before = await countSaleRows(deps, shop.id);
      const response = await http
        .post('/sales')
        .set('Authorization', shop.cashier.auth)
        .set('Content-Type', 'application/json')
        .send(testCase.body());
      expectProblem(response, 400, 'VALIDATION_FAILED', testCase.name);
      expect(response.body.errors).toContainEqual(expect.objectContaining({ path: testCase.path }));
      expect(await countSaleRows(deps, shop.id)).toEqual(before);
    });
  }
});

describe('Unicode in names (case 8): kept verbatim up to 200 characters, never a 5xx', () => {
  const CASES: { name: string; value: string; status: number }[] = [
    { name: 'emoji', value: 'Soda 🥤', status: 201 },
    { name: 'combining marks (NFD é)', value: 'Cafe\u0301 latte', status: 201 },
    { name: 'right-to-left override', value: 'Soap \u202eevil\u202c', status: 201 },
    { name: 'zero-width joiner and space', value: 'Ma\u200bize\u200d', status: 201 },
    { name: 'Arabic', value: '\u0645\u0631\u062d\u0628\u0627', status: 201 },
    { name: 'lone surrogate', value: 'x\ud800y', status: 400 },
    { name: '201 characters', value: 'x'.repeat(201), status: 400 },
    { name: '10 000 characters', value: 'x'.repeat(10_000), status: 400 },
    { name: 'only spaces', value: '   ', status: 400 },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name} → ${testCase.status}`, async () => {
      const response = await http
        .post('/products')
        .set('Authorization', shop.owner.auth)
        .send({ name: testCase.value, price: 100 });
      expect(response.status, response.text.slice(0, 300)).toBe(testCase.status);
      if (testCase.status === 201) {
        const read = await http
          .get(`/products/${response.body.id}`)
          .set('Authorization', shop.owner.auth);
        expect(read.body.name).toBe(testCase.value.trim());
      } else {
        expect(response.body.errors).toContainEqual(expect.objectContaining({ path: 'name' }));
      }
    });
  }
});

describe('sale timestamps (case 35): a sale is a fact, only the future is refused', () => {
  const day = 24 * 3600_000;
  const CASES: { name: string; occurredAt: () => Date; status: number }[] = [
    { name: '3 days in the future', occurredAt: () => new Date(Date.now() + 3 * day), status: 422 },
    {
      name: '6 minutes in the future',
      occurredAt: () => new Date(Date.now() + 6 * 60_000),
      status: 422,
    },
    {
      name: '90 days old (offline till)',
      occurredAt: () => new Date(Date.now() - 90 * day),
      status: 201,
    },
    {
      name: 'before the business existed',
      occurredAt: () => new Date('2001-01-01T00:00:00Z'),
      status: 201,
    },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name} → ${testCase.status}; receivedAt is the server's clock`, async () => {
      const started = Date.now();
      const response = await http
        .post('/sales')
        .set('Authorization', shop.cashier.auth)
        .send(saleBody([{ product }], { occurredAt: testCase.occurredAt().toISOString() }));
      expect(response.status, response.text.slice(0, 300)).toBe(testCase.status);
      if (testCase.status === 201) {
        expect(Date.parse(response.body.receivedAt)).toBeGreaterThanOrEqual(started - 1000);
      } else {
        expect(response.body.errors).toContainEqual(
          expect.objectContaining({ path: 'occurredAt' }),
        );
      }
    });
  }
});

describe('reset links under a spoofed Host (case 22)', () => {
  it('the outbox email carries no trace of the request Host; links come from PUBLIC_URL', async () => {
    for (const header of ['Host', 'X-Forwarded-Host']) {
      const response = await http
        .post('/auth/password/forgot')
        .set(header, 'evil.example')
        .send({ email: shop.owner.email });
      expect(response.status).toBe(202);
    }
    const rows = await deps.pool.query<{ payload: unknown }>(
      `select payload from outbox where business_id = $1 and type like '%password%'`,
      [shop.id],
    );
    expect(rows.rowCount).toBeGreaterThan(0);
    expect(JSON.stringify(rows.rows)).not.toContain('evil.example');
  });
});

describe('function-level refusals on real resources leave the database unchanged (case 17)', () => {
  const CASES: { name: string; send: () => Promise<supertest.Response> }[] = [
    {
      name: 'cashier changes a price',
      send: () =>
        http
          .patch(`/products/${product.id}`)
          .set('Authorization', shop.cashier.auth)
          .send({ price: 1 }),
    },
    {
      name: 'cashier voids a sale',
      send: async () => {
        const sale = await http
          .post('/sales')
          .set('Authorization', shop.cashier.auth)
          .send(saleBody([{ product }]));
        return http
          .post(`/sales/${sale.body.id}/void`)
          .set('Authorization', shop.cashier.auth)
          .send({ reason: 'refund to myself' });
      },
    },
    {
      name: 'cashier receives stock',
      send: () =>
        http
          .post('/inventory/adjustments')
          .set('Authorization', shop.cashier.auth)
          .set('Idempotency-Key', randomUUID())
          .send({ items: [{ productId: product.id, type: 'receive', quantity: 100 }] }),
    },
    {
      name: 'manager promotes a cashier to owner',
      send: () =>
        http
          .patch(`/users/${shop.cashier.id}`)
          .set('Authorization', shop.manager.auth)
          .send({ role: 'owner' }),
    },
    {
      name: 'manager invites a manager',
      send: () =>
        http
          .post('/invites')
          .set('Authorization', shop.manager.auth)
          .send({ email: `m-${randomUUID()}@example.test`, role: 'manager' }),
    },
    {
      name: 'manager adds a webhook',
      send: () =>
        http
          .post('/webhooks')
          .set('Authorization', shop.manager.auth)
          .send({ url: 'http://127.0.0.1:9/exfiltrate', events: ['*'] }),
    },
    {
      name: 'manager changes business settings',
      send: () =>
        http.patch('/business').set('Authorization', shop.manager.auth).send({ name: 'Mine' }),
    },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name} → 403, nothing changed`, async () => {
      const before = await businessSnapshot(deps.pool, shop.id);
      const response = await testCase.send();
      // The void case made its sale first: compare from after that setup.
      const after = await businessSnapshot(deps.pool, shop.id);
      expectProblem(response, 403, 'FORBIDDEN', testCase.name);
      if (testCase.name.includes('voids')) {
        const sale = await deps.pool.query(
          `select status from sales where business_id = $1 and status = 'voided'`,
          [shop.id],
        );
        expect(sale.rowCount).toBe(0);
      } else {
        expect(after).toEqual(before);
      }
    });
  }
});

describe('upload content (case 31): the bytes decide, by magic number, never the name', () => {
  /** Header of a PNG declaring 20000×20000 pixels (never decoded: stored as uploaded). */
  const hugePng = Buffer.concat([
    Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
    Buffer.from([0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 6, 0, 0, 0]),
    Buffer.alloc(64),
  ]);
  const CASES: { name: string; bytes: Buffer; filename: string; type: string; status: number }[] = [
    {
      name: 'SVG with a script',
      bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      filename: 'logo.png',
      type: 'image/png',
      status: 415,
    },
    {
      name: 'PHP named .jpg',
      bytes: Buffer.from('<?php system($_GET["c"]); ?>'),
      filename: 'shell.jpg',
      type: 'image/jpeg',
      status: 415,
    },
    {
      name: 'HTML named .webp',
      bytes: Buffer.from('<html><script>x</script></html>'),
      filename: 'a.webp',
      type: 'image/webp',
      status: 415,
    },
    {
      name: 'GIF (not allowed)',
      bytes: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;'),
      filename: 'a.png',
      type: 'image/png',
      status: 415,
    },
    {
      name: 'PNG header declaring 20000×20000 (stored, never decoded)',
      bytes: hugePng,
      filename: 'bomb.png',
      type: 'image/png',
      status: 200,
    },
  ];
  for (const testCase of CASES) {
    it(`${testCase.name} → ${testCase.status}`, async () => {
      const own = await insertProduct(deps, shop.id, shop.owner.id);
      const filesBefore = readdirSync(storageDir, { recursive: true }).length;
      const response = await http
        .post(`/products/${own.id}/image`)
        .set('Authorization', shop.owner.auth)
        .attach('file', testCase.bytes, {
          filename: testCase.filename,
          contentType: testCase.type,
        });
      expect(response.status, response.text.slice(0, 300)).toBe(testCase.status);
      if (testCase.status === 200) {
        // Served under a content-hash name with the detected type and nosniff.
        const url = new URL(response.body.imageUrl as string);
        expect(url.pathname).toMatch(/^\/files\/images\/[0-9a-f]{64}\.png$/);
        const served = await http.get(url.pathname);
        expect(served.headers['content-type']).toBe('image/png');
        expect(served.headers['x-content-type-options']).toBe('nosniff');
      } else {
        expect(readdirSync(storageDir, { recursive: true }).length).toBe(filesBefore);
      }
    });
  }
});

describe('a hostile webhook receiver (case 30): bounded time and bytes', () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });
  const receiver = async (handler: Parameters<typeof createServer>[1]) => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  };
  const policy = { allowPrivateNetworks: true, requireHttps: false };
  const attempt = (url: string, timeoutMs: number) =>
    postWebhook(createDeliveryAgent(policy, timeoutMs), policy, timeoutMs, {
      url,
      secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}`,
      messageId: randomUUID(),
      body: '{"type":"webhook.test"}',
      timestamp: Math.floor(Date.now() / 1000),
    });

  it('a receiver that never answers fails the attempt at the timeout', async () => {
    const url = await receiver(() => undefined);
    const result = await attempt(url, 500);
    expect(result.ok).toBe(false);
    expect(result.responseStatus).toBeUndefined();
    expect(result.error).toBeDefined();
  });

  it('a receiver streaming 10 MB is read up to 64 KB: the 2xx counts, the rest is dropped', async () => {
    let written = 0;
    const url = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (written < 10 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => undefined);
      pump();
    });
    const result = await attempt(url, 5_000);
    expect(result).toMatchObject({ ok: true, responseStatus: 200 });
    expect(written).toBeLessThan(10 * 1024 * 1024);
  });

  it('a receiver answering 500 forever is a failed attempt (retries and dead letters: test/webhooks/delivery.test.ts)', async () => {
    const url = await receiver((_req, res) => {
      res.writeHead(500);
      res.end('internal details of the receiver');
    });
    const result = await attempt(url, 2_000);
    expect(result).toMatchObject({ ok: false, responseStatus: 500, error: 'HTTP 500' });
  });
});
