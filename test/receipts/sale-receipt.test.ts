import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema/index.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness, type TestUser } from '../helpers/factories.js';
import { parseEscPos, printedRows, qrCommands } from '../helpers/escpos.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { assign, openLocation } from '../helpers/locations.js';
import { expectProblem } from '../helpers/problem.js';
import { insertProduct } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

interface ReceiptJson {
  kind: string;
  title: string;
  business: { name: string };
  location: { id: string; name: string; address: string | null; phone: string | null };
  number: number;
  receiptNumber: string | null;
  localTime: string;
  cashier: { id: string; name: string };
  lines: { name: string; quantity: number; total: number; taxRate: number }[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  vat: { rate: number; taxable: number; tax: number }[];
  payments: { method: string; amount: number; reference: string | null }[];
  change: number;
  voided: boolean;
  etims: unknown;
}

/** A shop with a branch that has an address, and a three-rate sale made there by a named cashier. */
async function shopWithSale() {
  const shop = await createBusiness(deps, { name: 'Duka la Mama Njeri' });
  await deps.db.update(users).set({ name: 'Wanjiku Kamau' }).where(eq(users.id, shop.cashier.id));
  const branch = await openLocation(http, shop.owner, 'Westlands');
  await http
    .patch(`/locations/${branch.id}`)
    .set('Authorization', shop.owner.auth)
    .send({ address: 'Sarit Centre', phone: '0712 000 111' })
    .expect(200);
  const [vat16, vat8, exempt] = await Promise.all(
    [
      { name: 'Unga 2kg', price: 23_000, taxRate: 1600 },
      { name: 'Mafuta 1l', price: 35_000, taxRate: 800 },
      { name: 'Maziwa 500ml', price: 6_000, taxRate: 0 },
    ].map((product) => insertProduct(deps, shop.id, shop.owner.id, product)),
  );
  const sale = await http
    .post('/sales')
    .set('Authorization', shop.cashier.auth)
    .send({
      clientRequestId: randomUUID(),
      occurredAt: '2026-12-05T06:30:00.000Z',
      locationId: branch.id,
      receiptNumber: 'T1-000042',
      lines: [
        { productId: vat16!.id, quantity: 2 },
        { productId: vat8!.id, quantity: 1, discount: 1_000 },
        { productId: exempt!.id, quantity: 1.5 },
      ],
      discount: 1_700,
      payments: [
        { method: 'mpesa', amount: 50_000, reference: 'SKL0AB12CD' },
        { method: 'cash', amount: 50_000 },
      ],
    })
    .expect(201);
  return {
    shop,
    branch,
    sale: sale.body as { id: string; number: number; total: number; tax: number },
  };
}

const receipt = (user: TestUser, saleId: string, query = '') =>
  http.get(`/sales/${saleId}/receipt${query}`).set('Authorization', user.auth);

describe('GET /sales/{id}/receipt', () => {
  it('gives the receipt as data: business, branch, cashier, numbers, money and VAT per rate', async () => {
    const { shop, branch, sale } = await shopWithSale();
    const response = await receipt(shop.cashier, sale.id).expect(200);
    expect(response.type).toBe('application/json');
    const body = response.body as ReceiptJson;
    expect(body).toMatchObject({
      kind: 'sale',
      title: 'RECEIPT',
      business: { name: 'Duka la Mama Njeri' },
      location: {
        id: branch.id,
        name: 'Westlands',
        address: 'Sarit Centre',
        phone: '0712 000 111',
      },
      number: sale.number,
      receiptNumber: 'T1-000042',
      localTime: '2026-12-05 09:30',
      cashier: { id: shop.cashier.id, name: 'Wanjiku Kamau' },
      total: sale.total,
      tax: sale.tax,
      voided: false,
      etims: null,
    });
    // 2 × 230 + (350 − 10) + 1.5 × 60 = 890.00; less 17.00 for the sale = 873.00.
    expect(body.subtotal).toBe(89_000);
    expect(body.total).toBe(87_300);
    expect(body.change).toBe(100_000 - 87_300);
    expect(body.vat.map((band) => band.rate)).toEqual([1600, 800, 0]);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(sum(body.vat.map((band) => band.taxable + band.tax))).toBe(body.total);
    expect(sum(body.vat.map((band) => band.tax))).toBe(body.tax);
    expect(body.vat.find((band) => band.rate === 0)!.tax).toBe(0);
    expect(body.lines.map((line) => line.taxRate)).toEqual([1600, 800, 0]);
    expect(body.payments).toEqual([
      { method: 'mpesa', amount: 50_000, reference: 'SKL0AB12CD' },
      { method: 'cash', amount: 50_000, reference: null },
    ]);
  });

  it.each([
    ['58', 32],
    ['80', 48],
  ] as const)('prints fixed-width text for %s mm paper (%i columns)', async (width, columns) => {
    const { shop, sale } = await shopWithSale();
    const response = await receipt(shop.manager, sale.id, `?format=text&width=${width}`).expect(
      200,
    );
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    const rows = response.text.trimEnd().split('\n');
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(columns);
    expect(rows.find((row) => row.startsWith('TOTAL'))).toBe(
      'TOTAL'.padEnd(columns - 'KES 873.00'.length) + 'KES 873.00',
    );
    for (const expected of [
      'Westlands, Sarit Centre',
      'Wanjiku Kamau',
      'T1-000042',
      'M-Pesa',
      'SKL0AB12CD',
      'Change',
    ]) {
      expect(response.text).toContain(expected);
    }
  });

  it('prints ESC/POS bytes: initialise, the rows within the paper, no QR before KRA signed, cut', async () => {
    const { shop, sale } = await shopWithSale();
    const response = await receipt(shop.owner, sale.id, '?format=escpos&width=58')
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    const items = parseEscPos(response.body as Buffer);
    expect(items[0]).toEqual({ kind: 'init' });
    expect(items.some((item) => item.kind === 'cut')).toBe(true);
    expect(qrCommands(items)).toEqual([]);
    const rows = printedRows(items);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(32);
    expect(rows.some((row) => row.includes('Duka la Mama Njeri'))).toBe(true);
  });

  it('says a voided sale was voided', async () => {
    const { shop, sale } = await shopWithSale();
    await http
      .post(`/sales/${sale.id}/void`)
      .set('Authorization', shop.manager.auth)
      .send({ reason: 'Rung up twice' })
      .expect(200);
    const body = (await receipt(shop.manager, sale.id).expect(200)).body as ReceiptJson;
    expect(body).toMatchObject({ voided: true, title: 'RECEIPT (VOIDED)' });
    const text = (await receipt(shop.manager, sale.id, '?format=text').expect(200)).text;
    expect(text).toContain('THIS SALE WAS VOIDED');
  });

  it('refuses bad formats, widths and ids with a clear problem', async () => {
    const { shop, sale } = await shopWithSale();
    for (const query of [
      '?format=pdf',
      '?width=57',
      '?width=80mm',
      '?format=text&colour=red',
      '?format=',
    ]) {
      expectProblem(await receipt(shop.owner, sale.id, query), 400, 'VALIDATION_FAILED', query);
    }
    expectProblem(await receipt(shop.owner, 'not-a-uuid'), 400, 'VALIDATION_FAILED');
    expectProblem(await receipt(shop.owner, randomUUID()), 404, 'NOT_FOUND');
  });

  it('is read by who may read the sale: another cashier 404, another branch 403, another business 404', async () => {
    const { shop, branch, sale } = await shopWithSale();
    expectProblem(await receipt(shop.cashier2, sale.id), 404, 'NOT_FOUND');
    const elsewhere = await openLocation(http, shop.owner, 'Karen');
    await assign(http, shop.owner, shop.manager, [elsewhere.id]).expect(200);
    expectProblem(await receipt(shop.manager, sale.id), 403, 'FORBIDDEN');
    await assign(http, shop.owner, shop.manager, [branch.id]).expect(200);
    await receipt(shop.manager, sale.id).expect(200);

    const other: TestBusiness = await createBusiness(deps);
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'get',
        path: `/sales/${sale.id}/receipt?format=text`,
        allowed: ['owner', 'manager', 'cashier'],
        namesResource: true,
      },
    );
  });
});
