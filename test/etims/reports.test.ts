import { describe, expect, it } from 'vitest';
import { attempt, documentsOfSale, enableEtims, startEtimsHarness } from '../helpers/etims.js';
import { createBusiness } from '../helpers/factories.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { salesCsvCopySql } from '../../src/modules/reports/sales-csv.js';

const harness = await startEtimsHarness();
const { http, deps } = harness;

describe('eTIMS in reports', () => {
  it('the sales summary splits VAT into bands A–E; the CSV carries the eTIMS numbers', async () => {
    const business = await createBusiness(deps);
    await enableEtims(harness, business);
    const standard = await insertProduct(deps, business.id, business.owner.id, {
      price: 11_600,
      taxRate: 1600,
    });
    const reduced = await insertProduct(deps, business.id, business.owner.id, {
      price: 10_800,
      taxRate: 800,
    });
    const zero = await insertProduct(deps, business.id, business.owner.id, {
      price: 5_000,
      taxRate: 0,
    });
    const zeroRated = await http
      .patch(`/products/${zero.id}`)
      .set('Authorization', business.owner.auth)
      .send({ taxType: 'C' });
    expect(zeroRated.status).toBe(200);
    const body = saleBody([{ product: standard }, { product: reduced }, { product: zero }], {
      occurredAt: new Date().toISOString(),
    });
    const sale = await http.post('/sales').set('Authorization', business.cashier.auth).send(body);
    expect(sale.status, sale.text).toBe(201);
    const [document] = await documentsOfSale(deps, sale.body.id);
    expect(await attempt(deps, document!.id)).toBe('signed');

    const today = new Date(Date.now() + 3 * 3_600_000).toISOString().slice(0, 10);
    const summary = await http
      .get(`/reports/sales-summary?from=${today}&to=${today}`)
      .set('Authorization', business.manager.auth);
    expect(summary.status, summary.text).toBe(200);
    expect(summary.body.taxByType).toEqual({
      A: { taxable: 0, tax: 0 },
      B: { taxable: 11_600, tax: 1_600 },
      C: { taxable: 5_000, tax: 0 },
      D: { taxable: 0, tax: 0 },
      E: { taxable: 10_800, tax: 800 },
    });
    expect(summary.body.totals.tax).toBe(2_400);

    const client = await deps.pool.connect();
    try {
      const sql = salesCsvCopySql(client, {
        businessId: business.id,
        from: today,
        to: today,
        timezone: 'Africa/Nairobi',
        locationIds: null,
      })
        .replace(/^copy \(/, '')
        .replace(/\) to stdout with \(format csv, header true\)$/, '');
      const rows = (await client.query(sql)).rows as {
        etimsInvoiceNumber: string;
        etimsReceiptNumber: string;
      }[];
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        expect(Number(row.etimsInvoiceNumber)).toBe(1);
        expect(Number(row.etimsReceiptNumber)).toBeGreaterThan(0);
      }
    } finally {
      client.release();
    }
  });
});
