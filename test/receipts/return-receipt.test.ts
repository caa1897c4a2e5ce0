import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { parseEscPos, printedRows } from '../helpers/escpos.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { expectProblem } from '../helpers/problem.js';
import { postReturn, returnBody, sell } from '../helpers/returns.js';
import { insertProduct } from '../helpers/sales-factories.js';

const { http, deps } = createTestApp();

interface CreditNote {
  kind: string;
  title: string;
  number: number;
  originalSaleNumber: number;
  lines: { name: string; quantity: number; discount: number; total: number; taxRate: number }[];
  subtotal: number;
  tax: number;
  total: number;
  vat: { rate: number; taxable: number; tax: number }[];
  payments: { method: string; amount: number }[];
}

/** A sale of two rates with a line discount, wholly returned (so the refund is its total). */
async function returned() {
  const shop = await createBusiness(deps);
  const [unga, maziwa] = await Promise.all([
    insertProduct(deps, shop.id, shop.owner.id, { name: 'Unga 2kg', price: 23_000, taxRate: 1600 }),
    insertProduct(deps, shop.id, shop.owner.id, { name: 'Maziwa 500ml', price: 6_000, taxRate: 0 }),
  ]);
  const sale = await sell(http, shop.cashier, [
    { product: unga, quantity: 3, discount: 300 },
    { product: maziwa, quantity: 2 },
  ]);
  const [ungaLine, maziwaLine] = sale.lines;
  const lines = [
    { saleLineId: ungaLine!.id, quantity: 3 },
    { saleLineId: maziwaLine!.id, quantity: 2 },
  ];
  const response = await postReturn(
    http,
    shop.manager,
    returnBody(sale, lines, ungaLine!.total + maziwaLine!.total),
  );
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return {
    shop,
    sale,
    ret: response.body as { id: string; number: number; total: number; tax: number },
  };
}

const creditNote = (auth: string, id: string, query = '') =>
  http.get(`/returns/${id}/receipt${query}`).set('Authorization', auth);

describe('GET /returns/{id}/receipt', () => {
  it('is a credit note naming the sale, with its lines, VAT per rate and the refunds', async () => {
    const { shop, sale, ret } = await returned();
    const body = (await creditNote(shop.manager.auth, ret.id).expect(200)).body as CreditNote;
    expect(body).toMatchObject({
      kind: 'return',
      title: 'CREDIT NOTE',
      number: ret.number,
      originalSaleNumber: sale.number,
      total: ret.total,
      tax: ret.tax,
      payments: [{ method: 'cash', amount: ret.total }],
    });
    expect(body.lines.map((line) => [line.name, line.quantity, line.taxRate])).toEqual([
      ['Unga 2kg', 3, 1600],
      ['Maziwa 500ml', 2, 0],
    ]);
    expect(body.total).toBe(sale.total);
    // The discount given with the goods shows on the line it was given on.
    expect(body.lines.map((line) => line.discount)).toEqual([300, 0]);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(sum(body.vat.map((band) => band.taxable + band.tax))).toBe(body.total);
    expect(sum(body.vat.map((band) => band.tax))).toBe(body.tax);

    const text = (await creditNote(shop.owner.auth, ret.id, '?format=text&width=58').expect(200))
      .text;
    for (const row of text.trimEnd().split('\n')) expect(row.length).toBeLessThanOrEqual(32);
    expect(text).toContain('CREDIT NOTE');
    expect(text).toContain(`For sale no.`);
    expect(text).toMatch(/TOTAL REFUND\s+KES /);
    expect(text).toContain('Refund Cash');

    const bytes = await creditNote(shop.owner.auth, ret.id, '?format=escpos&width=80')
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const items = parseEscPos(bytes.body as Buffer);
    expect(items[0]).toEqual({ kind: 'init' });
    expect(items.some((item) => item.kind === 'cut')).toBe(true);
    expect(printedRows(items).some((row) => row.includes('CREDIT NOTE'))).toBe(true);
  });

  it('is read by who may read returns: cashiers 403, another business 404, unknown 404', async () => {
    const { shop, ret } = await returned();
    const other = await createBusiness(deps);
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'get',
        path: `/returns/${ret.id}/receipt`,
        allowed: ['owner', 'manager'],
        namesResource: true,
      },
    );
    expectProblem(await creditNote(shop.owner.auth, randomUUID()), 404, 'NOT_FOUND');
    expectProblem(
      await creditNote(shop.owner.auth, ret.id, '?width=100'),
      400,
      'VALIDATION_FAILED',
    );
  });
});
