import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { outbox, reportExports } from '../../src/db/schema/index.js';
import { reportsQueue, runSalesExport } from '../../src/modules/reports/exports.job.js';
import { SALES_CSV_COLUMNS } from '../../src/modules/reports/sales-csv.js';
import type { Storage } from '../../src/storage/storage.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { eventually, useJobs } from '../helpers/jobs.js';
import { insertProduct } from '../helpers/sales-factories.js';
import { syncSales } from '../helpers/reports.js';

const env = { STORAGE_LOCAL_DIR: mkdtempSync(path.join(tmpdir(), 'exports-test-')) };
const { deps, http } = createTestApp({ env });
const jobs = useJobs({ env, workers: [reportsQueue] });

async function shop() {
  const business = await createBusiness(deps);
  jobs.businessIds.add(business.id);
  return business;
}

const requestExport = (business: TestBusiness, body: Record<string, unknown>, key?: string) => {
  let request = http.post('/reports/exports').set('Authorization', business.manager.auth);
  if (key) request = request.set('Idempotency-Key', key);
  return request.send(body);
};

async function waitForExport(business: TestBusiness, id: string, status = 'done') {
  return eventually(
    async () => {
      const response = await http
        .get(`/reports/exports/${id}`)
        .set('Authorization', business.owner.auth);
      return response.body.status === status ? response : undefined;
    },
    30_000,
    `export ${status}`,
  );
}

async function download(url: string) {
  const { pathname, search } = new URL(url);
  const response = await http
    .get(`${pathname}${search}`)
    .buffer(true)
    .parse((res, done) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => done(null, text));
    });
  return response;
}

describe('sales CSV exports', () => {
  it('streams a CSV of every sale line, quoted, in shillings and local time', async () => {
    const business = await shop();
    const soda = await insertProduct(deps, business.id, business.owner.id, {
      name: 'Soda, "Large"',
      sku: 'SODA-L',
      price: 15_000,
    });
    const sugar = await insertProduct(deps, business.id, business.owner.id, {
      name: 'Sugar\nloose',
      sku: null,
      price: 2_550,
      taxRate: 0,
    });
    const [first, second] = await syncSales(http, business.cashier.auth, [
      {
        clientRequestId: crypto.randomUUID(),
        occurredAt: '2026-04-01T20:30:00Z', // 23:30 in Nairobi
        receiptNumber: 'R-1',
        lines: [
          { productId: soda.id, quantity: 2, discount: 1_000 },
          { productId: sugar.id, quantity: 0.5 },
        ],
        discount: 500,
        payments: [
          { method: 'mpesa', amount: 20_000, reference: 'QX1' },
          { method: 'cash', amount: 20_000 },
        ],
      },
      {
        clientRequestId: crypto.randomUUID(),
        occurredAt: '2026-04-02T06:00:00Z',
        lines: [{ productId: soda.id, quantity: 1 }],
        payments: [{ method: 'cash', amount: 15_000 }],
      },
      {
        clientRequestId: crypto.randomUUID(),
        occurredAt: '2026-04-05T06:00:00Z', // outside the range
        lines: [{ productId: soda.id, quantity: 1 }],
        payments: [{ method: 'cash', amount: 15_000 }],
      },
    ]);
    await http
      .post(`/sales/${second!.id}/void`)
      .set('Authorization', business.manager.auth)
      .send({ reason: 'wrong item' })
      .expect(200);

    const created = await requestExport(business, {
      type: 'sales',
      from: '2026-04-01',
      to: '2026-04-02',
      format: 'csv',
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'queued', type: 'sales', from: '2026-04-01' });
    expect(created.headers.location).toBe(`/reports/exports/${created.body.id}`);
    // The job was promised in the same transaction as the export row.
    const jobRows = await deps.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.businessId, business.id), eq(outbox.kind, 'job')));
    expect(jobRows).toHaveLength(1);
    expect(jobRows[0]).toMatchObject({
      kind: 'job',
      type: 'reports:export-sales',
      payload: { exportId: created.body.id },
    });

    const done = await waitForExport(business, created.body.id);
    expect(done.body).toMatchObject({ status: 'done', rowCount: 3, error: null });
    expect(done.body.downloadUrl).toMatch(
      new RegExp(`/files/exports/${created.body.id}\\.csv\\?expires=\\d+&signature=`),
    );

    const file = await download(done.body.downloadUrl as string);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toMatch(/text\/csv/);
    const text = file.body as string;
    expect(text).toContain('"Soda, ""Large"""');
    const rows = parse<Record<string, string>>(text, { columns: true });
    expect(rows).toEqual([
      {
        saleNumber: String(first!.number),
        receiptNumber: 'R-1',
        occurredAt: '2026-04-01T23:30:00.000+03:00',
        status: 'completed',
        cashier: expect.stringMatching(/^Cashier /),
        location: 'Main',
        productName: 'Soda, "Large"',
        sku: 'SODA-L',
        quantity: '2',
        unitPrice: '150.00',
        discount: expect.stringMatching(/^1\d\.\d\d$/),
        tax: (first!.lines[0]!.tax / 100).toFixed(2),
        lineTotal: expect.stringMatching(/^\d+\.\d\d$/),
        paymentMethods: 'cash;mpesa',
        returnNumber: '',
        etimsInvoiceNumber: '',
        etimsReceiptNumber: '',
      },
      expect.objectContaining({
        productName: 'Sugar\nloose',
        sku: '',
        quantity: '0.5',
        unitPrice: '25.50',
        tax: '0.00',
      }) as unknown as Record<string, string>,
      expect.objectContaining({
        saleNumber: String(second!.number),
        status: 'voided',
        occurredAt: '2026-04-02T09:00:00.000+03:00',
        lineTotal: '150.00',
        paymentMethods: 'cash',
      }) as unknown as Record<string, string>,
    ]);
    // The sale's lines add up to what it charged, and the discounts to both discounts.
    const cents = (value: string) => Math.round(Number(value) * 100);
    expect(cents(rows[0]!.lineTotal!) + cents(rows[1]!.lineTotal!)).toBe(first!.total);
    expect(cents(rows[0]!.discount!) + cents(rows[1]!.discount!)).toBe(1_000 + 500);

    // A re-run of a finished export changes nothing.
    expect(await runSalesExport(jobs.deps, created.body.id)).toEqual({
      status: 'already-done',
      rowCount: 3,
    });
  });

  it('neutralises spreadsheet formulas in free-text cells (CSV injection)', async () => {
    const business = await shop();
    const formulas = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\tTAB'];
    const products = await Promise.all(
      formulas.map((name, index) =>
        insertProduct(deps, business.id, business.owner.id, {
          name,
          sku: `${formulas[(index + 1) % formulas.length]}-${index}`,
          price: 1_000,
        }),
      ),
    );
    await syncSales(http, business.cashier.auth, [
      {
        clientRequestId: crypto.randomUUID(),
        occurredAt: '2026-05-01T08:00:00Z',
        receiptNumber: '=1+2',
        lines: products.map((product) => ({ productId: product.id, quantity: 1 })),
        payments: [{ method: 'cash', amount: 5_000 }],
      },
    ]);
    const created = await requestExport(business, {
      type: 'sales',
      from: '2026-05-01',
      to: '2026-05-01',
      format: 'csv',
    });
    const done = await waitForExport(business, created.body.id);
    const rows = parse<Record<string, string>>((await download(done.body.downloadUrl)).body, {
      columns: true,
    });
    expect(rows.map((row) => row.productName)).toEqual(formulas.map((name) => `'${name}`));
    expect(rows.map((row) => row.sku)).toEqual(
      formulas.map((_, index) => `'${formulas[(index + 1) % formulas.length]}-${index}`),
    );
    expect(new Set(rows.map((row) => row.receiptNumber))).toEqual(new Set(["'=1+2"]));
    // Ordinary text is untouched, and the stored data keeps no apostrophe.
    expect(rows[0]!.cashier).toMatch(/^Cashier /);
    const stored = await http
      .get(`/products/${products[0]!.id}`)
      .set('Authorization', business.owner.auth);
    expect(stored.body.name).toBe(formulas[0]);
  });

  it('replays an Idempotency-Key and refuses a range over a year', async () => {
    const business = await shop();
    const body = { type: 'sales', from: '2026-01-01', to: '2026-01-31', format: 'csv' };
    const first = await requestExport(business, body, 'export-key-1');
    const again = await requestExport(business, body, 'export-key-1');
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const rows = await deps.db
      .select()
      .from(reportExports)
      .where(eq(reportExports.businessId, business.id));
    expect(rows).toHaveLength(1);
    await waitForExport(business, first.body.id);

    for (const bad of [
      { ...body, from: '2025-01-01', to: '2026-01-02' },
      { ...body, from: '2026-02-01', to: '2026-01-31' },
      { ...body, format: 'xlsx' },
      { ...body, type: 'products' },
      { ...body, extra: true },
    ]) {
      const response = await requestExport(business, bad);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('refuses an expired subscription with 402', async () => {
    const business = await createBusiness(deps, { currentPeriodEnd: new Date('2020-01-01') });
    const response = await requestExport(business, {
      type: 'sales',
      from: '2026-01-01',
      to: '2026-01-02',
      format: 'csv',
    });
    expect(response.status).toBe(402);
    expect(response.body.code).toBe('SUBSCRIPTION_INACTIVE');
  });

  it('marks the export failed with a reason when storage keeps failing', async () => {
    const business = await shop();
    const working = jobs.deps.storage;
    const broken: Storage = {
      driver: 'local',
      put: (_key, body) => {
        if (!Buffer.isBuffer(body)) body.resume();
        return Promise.reject(new Error('disk full'));
      },
      get: (key) => working.get(key),
      delete: (key) => working.delete(key),
    };
    jobs.deps.storage = broken;
    try {
      const created = await requestExport(business, {
        type: 'sales',
        from: '2026-01-01',
        to: '2026-01-02',
        format: 'csv',
      });
      const failed = await waitForExport(business, created.body.id, 'failed');
      expect(failed.body).toMatchObject({
        status: 'failed',
        error: 'The file could not be written to storage (attempt 3 of 3)',
      });
      expect(failed.body.downloadUrl).toBeUndefined();
    } finally {
      jobs.deps.storage = working;
    }
  }, 60_000);

  it('serves the file only through a valid signature', async () => {
    const business = await shop();
    const created = await requestExport(business, {
      type: 'sales',
      from: '2026-01-01',
      to: '2026-01-01',
      format: 'csv',
    });
    const done = await waitForExport(business, created.body.id);
    const url = new URL(done.body.downloadUrl as string);
    expect((await http.get(url.pathname)).status).toBe(403);
    expect((await http.get(`${url.pathname}?expires=9999999999&signature=forged`)).status).toBe(
      403,
    );
    const file = await download(url.toString());
    // An empty range is a header alone, in the documented column order.
    expect(file.body).toBe(`${SALES_CSV_COLUMNS.join(',')}\n`);
    expect(SALES_CSV_COLUMNS.join(',')).toBe(
      'saleNumber,receiptNumber,occurredAt,status,cashier,location,productName,sku,quantity,unitPrice,discount,tax,lineTotal,paymentMethods,returnNumber,etimsInvoiceNumber,etimsReceiptNumber',
    );
  });

  it('is guarded on every route: 401, 403 for a cashier, 404 across businesses', async () => {
    const owner = await shop();
    const other = await shop();
    const body = { type: 'sales', from: '2026-01-01', to: '2026-01-01', format: 'csv' };
    await expectRouteGuards(
      http,
      { owner, other },
      {
        method: 'post',
        path: '/reports/exports',
        body,
        allowed: ['owner', 'manager'],
        namesResource: false,
      },
    );
    const created = await requestExport(owner, body);
    await expectRouteGuards(
      http,
      { owner, other },
      {
        method: 'get',
        path: `/reports/exports/${created.body.id}`,
        allowed: ['owner', 'manager'],
        namesResource: true,
      },
    );
    const missing = await http
      .get(`/reports/exports/${crypto.randomUUID()}`)
      .set('Authorization', owner.owner.auth);
    expect(missing.status).toBe(404);
  });
});
