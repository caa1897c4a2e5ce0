// A shop's day through the generated SDK only (typed calls, no raw fetch), against the real
// API process; the export is built by a worker in this test process (useJobs).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { and, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProblemError,
  createClient,
  idempotent,
  unwrap,
  type Schemas,
  type Tokens,
} from '../../sdk/src/index.js';
import { outbox } from '../../src/db/schema/index.js';
import { AccessTokens } from '../../src/modules/auth/access-token.js';
import { reportsQueue } from '../../src/modules/reports/exports.job.js';
import { testEnv } from '../helpers/app.js';
import { eventually, useJobs } from '../helpers/jobs.js';
import { freePort, spawnTs, waitForHttp, type SpawnedProcess } from '../helpers/process.js';

const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const shared = {
  STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'shop-day-')),
  PUBLIC_URL: baseUrl,
};
const jobs = useJobs({ env: shared, workers: [reportsQueue] });
let server: SpawnedProcess;

beforeAll(async () => {
  server = spawnTs('test/fixtures/api-process.ts', {
    ...testEnv(shared),
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  await waitForHttp(`${baseUrl}/health`);
}, 60_000);

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

/** A signed-in user of the SDK: tokens kept here, refreshed by the client itself. */
function signedIn(tokens: Tokens) {
  const session = { ...tokens, refreshes: 0 };
  const api = createClient({
    baseUrl,
    getToken: () => session.accessToken,
    getRefreshToken: () => session.refreshToken,
    onTokens: (next) => {
      Object.assign(session, next);
      session.refreshes += 1;
    },
  });
  return { api, session };
}

const PASSWORD = 'a-long-enough-password';
const DAY = '2026-06-15';

describe('a shop day through the SDK', () => {
  it('registers, invites, sells offline, voids, reports and exports', async () => {
    const anonymous = createClient({ baseUrl });
    const stamp = crypto.randomUUID().slice(0, 8);

    // Morning: the owner registers the shop.
    const registered = await unwrap(
      anonymous.POST('/auth/register', {
        body: {
          businessName: `Duka ${stamp}`,
          name: 'Wanjiku Owner',
          email: `owner-${stamp}@example.test`,
          password: PASSWORD,
        },
      }),
    );
    jobs.businessIds.add(registered.business.id);
    const owner = signedIn(registered);

    // …invites a cashier, who accepts with the token from the invite email.
    await unwrap(
      owner.api.POST('/invites', {
        body: { email: `cashier-${stamp}@example.test`, role: 'cashier' },
      }),
    );
    const [email] = await jobs.deps.db
      .select()
      .from(outbox)
      .where(
        and(
          eq(outbox.businessId, registered.business.id),
          eq(outbox.kind, 'email'),
          eq(outbox.type, 'invite'),
        ),
      );
    const acceptUrl = new URL((email!.payload as { acceptUrl: string }).acceptUrl);
    const accepted = await unwrap(
      anonymous.POST('/invites/accept', {
        body: {
          token: acceptUrl.searchParams.get('token')!,
          name: 'Otieno Cashier',
          password: PASSWORD,
        },
      }),
    );
    expect(accepted.user.role).toBe('cashier');
    const cashier = signedIn(accepted);

    // …and stocks the catalog (Idempotency-Key kept across retries by idempotent()).
    const catalog: Schemas['Product'][] = [];
    for (const product of [
      {
        name: 'Soda, "Large"',
        sku: 'SODA-L',
        price: 15_000,
        taxRate: 1600,
        unit: 'each',
        trackStock: true,
      },
      { name: 'Bread', sku: 'BREAD', price: 6_500, taxRate: 0, unit: 'each', trackStock: true },
      {
        name: 'Sugar 1kg',
        sku: 'SUGAR',
        price: 22_000,
        taxRate: 1600,
        unit: 'each',
        trackStock: false,
      },
    ]) {
      catalog.push(
        await idempotent((key) =>
          unwrap(
            owner.api.POST('/products', {
              body: product,
              params: { header: { 'idempotency-key': key } },
            }),
          ),
        ),
      );
    }

    // The till was offline all day: twelve sales queued, then replayed three times.
    const queue: Schemas['CreateSaleBody'][] = Array.from({ length: 12 }, (_, index) => {
      const first = catalog[index % 3]!;
      const second = catalog[(index + 1) % 3]!;
      const total = first.price + 2 * second.price;
      return {
        clientRequestId: crypto.randomUUID(),
        occurredAt: new Date(Date.parse(`${DAY}T06:00:00Z`) + index * 3_600_000).toISOString(),
        receiptNumber: `T1-${index + 1}`,
        lines: [
          { productId: first.id, quantity: 1 },
          { productId: second.id, quantity: 2 },
        ],
        payments:
          index % 2 === 0
            ? [{ method: 'cash', amount: total + 500 }]
            : [{ method: 'mpesa', amount: total, reference: `QK${index}` }],
        total,
      };
    });
    const passes = [];
    for (let pass = 0; pass < 3; pass++) {
      passes.push(await unwrap(cashier.api.POST('/sales/sync', { body: { sales: queue } })));
    }
    expect(passes[0]!.results.map((result) => result.status)).toEqual(queue.map(() => 'created'));
    for (const replay of passes.slice(1)) {
      expect(replay.results.map((result) => result.status)).toEqual(queue.map(() => 'duplicate'));
      expect(replay.results.map((result) => result.sale?.id)).toEqual(
        passes[0]!.results.map((result) => result.sale?.id),
      );
    }
    const sales = passes[0]!.results.map((result) => result.sale!);

    // A wrong sale is voided by the owner.
    const voided = await unwrap(
      owner.api.POST('/sales/{id}/void', {
        params: { path: { id: sales[3]!.id } },
        body: { reason: 'rang up twice' },
      }),
    );
    expect(voided.status).toBe('voided');

    // Evening: the summary…
    const summary = await unwrap(
      owner.api.GET('/reports/sales-summary', {
        params: { query: { from: DAY, to: DAY, groupBy: 'paymentMethod' } },
      }),
    );
    const kept = sales.filter((sale) => sale.id !== voided.id);
    expect(summary.totals).toEqual({
      count: 11,
      gross: kept.reduce((sum, sale) => sum + sale.subtotal, 0),
      discount: 0,
      tax: kept.reduce((sum, sale) => sum + sale.tax, 0),
      returns: 0,
      net: kept.reduce((sum, sale) => sum + sale.total, 0),
      voidedCount: 1,
    });
    expect(summary.rows.map((row) => row.key).sort()).toEqual(['cash', 'mpesa']);
    expect(summary.rows.reduce((sum, row) => sum + row.net, 0)).toBe(summary.totals.net);

    // …which a cashier may not see.
    const refused = await unwrap(
      cashier.api.GET('/reports/sales-summary', { params: { query: { from: DAY, to: DAY } } }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProblemError);
    expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN', retryable: false });

    // …and the export, polled until the worker is done.
    const requested = await idempotent((key) =>
      unwrap(
        owner.api.POST('/reports/exports', {
          body: { type: 'sales', from: DAY, to: DAY, format: 'csv' },
          params: { header: { 'idempotency-key': key } },
        }),
      ),
    );
    expect(requested.status).toBe('queued');
    const done = await eventually(async () => {
      const current = await unwrap(
        owner.api.GET('/reports/exports/{id}', { params: { path: { id: requested.id } } }),
      );
      return current.status === 'done' ? current : undefined;
    }, 30_000);
    expect(done.rowCount).toBe(24);

    const link = new URL(done.downloadUrl!);
    const [, , folder, name] = link.pathname.split('/');
    const csv = await unwrap(
      anonymous.GET('/files/{folder}/{name}', {
        params: {
          path: { folder: folder!, name: name! },
          query: {
            expires: link.searchParams.get('expires')!,
            signature: link.searchParams.get('signature')!,
          },
        },
        parseAs: 'text',
      }),
    );
    const rows = parse<Record<string, string>>(csv, { columns: true });
    expect(rows).toHaveLength(24);
    expect(new Set(rows.map((row) => row.productName))).toEqual(
      new Set(['Soda, "Large"', 'Bread', 'Sugar 1kg']),
    );
    expect(rows.filter((row) => row.status === 'voided')).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      saleNumber: String(sales[0]!.number),
      receiptNumber: 'T1-1',
      occurredAt: '2026-06-15T09:00:00.000+03:00',
      cashier: 'Otieno Cashier',
      productName: 'Soda, "Large"',
      unitPrice: '150.00',
      paymentMethods: 'cash',
    });
    const cents = (value: string | undefined) => Math.round(Number(value) * 100);
    expect(
      rows.reduce((sum, row) => sum + (row.status === 'completed' ? cents(row.lineTotal) : 0), 0),
    ).toBe(summary.totals.net);
  }, 90_000);

  it('refreshes an expired access token by itself and retries the call', async () => {
    const anonymous = createClient({ baseUrl });
    const stamp = crypto.randomUUID().slice(0, 8);
    const registered = await unwrap(
      anonymous.POST('/auth/register', {
        body: {
          businessName: `Kiosk ${stamp}`,
          name: 'Amina Owner',
          email: `refresh-${stamp}@example.test`,
          password: PASSWORD,
        },
      }),
    );
    // The same claims, signed an hour ago with the server's secret: expired 45 minutes ago.
    const claims = decodeJwt(registered.accessToken);
    const tokens = new AccessTokens(jobs.config.auth);
    const expired = await tokens.sign(
      {
        userId: claims.sub!,
        businessId: registered.business.id,
        role: 'owner',
        sessionId: claims.sid as string,
      },
      new Date(Date.now() - 3_600_000),
    );
    const rejected = await unwrap(createClient({ baseUrl, token: expired }).GET('/me')).catch(
      (error: unknown) => error,
    );
    expect(rejected).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });

    const owner = signedIn({ ...registered, accessToken: expired });
    const me = await unwrap(owner.api.GET('/me'));
    expect(me.user.id).toBe(claims.sub);
    expect(owner.session.refreshes).toBe(1);
    expect(owner.session.accessToken).not.toBe(expired);
    expect(owner.session.refreshToken).not.toBe(registered.refreshToken);
    // The new pair keeps working without another refresh.
    await unwrap(owner.api.GET('/me'));
    expect(owner.session.refreshes).toBe(1);
  }, 30_000);
});
