import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { etimsDevices, outbox } from '../../src/db/schema/index.js';
import { outboxTypeOf } from '../../src/jobs/types.js';
import { ETIMS_TRANSMIT_JOB_TYPE } from '../../src/modules/etims/etims-job-type.js';
import { processRegisterItem, transmitJob } from '../../src/modules/etims/etims.job.js';
import type { OscuMode } from '../../src/etims/simulator/simulator.js';
import {
  attempt,
  documentsOfSale,
  enableEtims,
  invoicesAtKra,
  queuedTransmits,
  setPinMode,
  startEtimsHarness,
} from '../helpers/etims.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { insertProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';

const harness = await startEtimsHarness({ timeoutMs: 1_000 });
const { http, deps, simulator } = harness;

/**
 * A business with eTIMS on and its device initialised, a 116.00 product (B) registered with
 * KRA, and then the simulator's `mode` for its PIN (faults start after the set-up).
 */
async function shop(mode?: OscuMode) {
  const business = await createBusiness(deps);
  const pin = await enableEtims(harness, business);
  const product = await insertProduct(deps, business.id, business.owner.id, {
    price: 11_600,
    taxRate: 1600,
  });
  expect(await processRegisterItem(deps, business.id, product.id)).toBe(1);
  if (mode) setPinMode(harness, pin, mode);
  return { business, pin, product };
}

async function sell(business: TestBusiness, product: TestProduct, overrides = {}) {
  // occurredAt now: after the switch (saleBody's default is a minute ago).
  const body = saleBody([{ product, quantity: 2 }], {
    occurredAt: new Date().toISOString(),
    ...overrides,
  });
  const response = await http.post('/sales').set('Authorization', business.cashier.auth).send(body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { sale: response.body as { id: string; number: number; etims: unknown }, body };
}

async function onlyDocument(saleId: string) {
  const documents = await documentsOfSale(deps, saleId);
  expect(documents).toHaveLength(1);
  return documents[0]!;
}

const saleOf = async (business: TestBusiness, id: string) =>
  (await http.get(`/sales/${id}`).set('Authorization', business.manager.auth)).body as {
    etims: Record<string, unknown> | null;
  };

describe('eTIMS transmission of a sale', () => {
  it('the write statement queues the transmit job under its registered outbox type', () => {
    expect(ETIMS_TRANSMIT_JOB_TYPE).toBe(outboxTypeOf(transmitJob));
  });

  it('signs a sale once: pending at once, signed by the job, a second run sends nothing', async () => {
    const { business, pin, product } = await shop();
    const { sale } = await sell(business, product);
    expect(sale.etims).toMatchObject({ status: 'pending', invoiceNumber: null });
    const document = await onlyDocument(sale.id);
    expect(await queuedTransmits(deps, business.id)).toEqual([document.id]);

    expect(await attempt(deps, document.id)).toBe('signed');
    expect(await attempt(deps, document.id)).toBe('already-signed');

    const signed = await onlyDocument(sale.id);
    expect(signed.invoiceNumber).toBe(1);
    expect(simulator.transmissions(pin, '00', 1)).toBe(1);
    const [atKra] = invoicesAtKra(simulator, pin, String(sale.number));
    expect(atKra?.request).toMatchObject({
      invcNo: 1,
      orgInvcNo: 0,
      rcptTyCd: 'S',
      pmtTyCd: '01',
      taxblAmtB: 232,
      taxAmtB: 32,
      totAmt: 232,
    });
    expect(atKra?.request.itemList).toHaveLength(1);

    const block = (await saleOf(business, sale.id)).etims;
    expect(block).toMatchObject({
      status: 'signed',
      invoiceNumber: 1,
      receiptNumber: atKra?.signature.curRcptNo,
      totalReceiptNumber: atKra?.signature.totRcptNo,
      internalData: atKra?.signature.intrlData,
      signature: atKra?.signature.rcptSign,
      sdcDateTime: atKra?.signature.sdcDateTime,
      creditNote: null,
    });
    expect(block?.qrUrl).toBe(
      `https://etims-sbx.kra.go.ke/common/link/etims/receipt/indexEtimsReceiptData?Data=${pin}00${atKra?.signature.rcptSign}`,
    );
    // The receipt prints the signed block and its QR code.
    const receipt = await http
      .get(`/sales/${sale.id}/receipt?format=json`)
      .set('Authorization', business.cashier.auth);
    expect(receipt.status, receipt.text).toBe(200);
    expect(receipt.body.etims).toMatchObject({
      signature: atKra?.signature.rcptSign,
      qrUrl: block?.qrUrl,
    });
    const text = await http
      .get(`/sales/${sale.id}/receipt?format=text`)
      .set('Authorization', business.cashier.auth);
    expect(text.text).toContain(atKra?.signature.rcptSign);
    const events = await deps.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.businessId, business.id), eq(outbox.type, 'sale.etims_signed')));
    expect(events).toHaveLength(1);
    // Names the sale's cashier, so the live stream delivers the reprint to their till.
    expect(events[0]?.payload).toMatchObject({
      saleId: sale.id,
      cashierId: business.cashier.id,
      document: 'sale',
      etims: { status: 'signed', signature: atKra?.signature.rcptSign },
    });

    // Stock out reported as the spec asks: stock in/out under the invoice number, then the level.
    const io = simulator.state.stockIo.get(`${pin}/00/1`);
    expect(io).toMatchObject({ sarNo: 1, sarTyCd: '11' });
    expect(simulator.state.stockMaster.get(`${pin}/00/${atKra?.request.itemList[0]?.itemCd}`)).toBe(
      98,
    );
  });

  it('two workers on the same invoice send it once', async () => {
    const { business, pin, product } = await shop({ kind: 'slow', delayMs: 300 });
    const { sale } = await sell(business, product);
    const document = await onlyDocument(sale.id);
    const results = await Promise.all([attempt(deps, document.id), attempt(deps, document.id)]);
    expect(results.sort()).toEqual(['busy', 'signed']);
    expect(simulator.transmissions(pin, '00', 1)).toBe(1);
    expect(await attempt(deps, document.id)).toBe('already-signed');
    expect(invoicesAtKra(simulator, pin, String(sale.number))).toHaveLength(1);
  });

  it('KRA down (503): the sale was answered, the job retries and signs it once', async () => {
    const { business, pin, product } = await shop({ kind: 'down', status: 503 });
    const { sale } = await sell(business, product);
    const document = await onlyDocument(sale.id);
    expect(await attempt(deps, document.id)).toBe('retry');
    expect(await attempt(deps, document.id)).toBe('retry');
    const pending = await onlyDocument(sale.id);
    expect(pending).toMatchObject({ status: 'pending', invoiceNumber: 1, attempts: 2 });

    setPinMode(harness, pin, { kind: 'normal' });
    expect(await attempt(deps, document.id)).toBe('signed');
    expect(simulator.transmissions(pin, '00', 1)).toBe(3);
    expect(invoicesAtKra(simulator, pin, String(sale.number))).toHaveLength(1);
  });

  it('KRA keeps the invoice but the answer is lost: the resend has the same number, 994 is signed', async () => {
    const { business, pin, product } = await shop({ kind: 'accept-then-timeout', delayMs: 5_000 });
    const { sale } = await sell(business, product);
    const document = await onlyDocument(sale.id);
    expect(await attempt(deps, document.id)).toBe('retry');
    expect(invoicesAtKra(simulator, pin, String(sale.number))).toHaveLength(1);

    setPinMode(harness, pin, { kind: 'normal' });
    expect(await attempt(deps, document.id)).toBe('duplicate');
    const signed = await onlyDocument(sale.id);
    expect(signed).toMatchObject({ status: 'signed', duplicate: true, invoiceNumber: 1 });
    expect(simulator.transmissions(pin, '00', 1)).toBe(2);
    // One invoice at KRA, under one number: nothing was sent under another.
    expect(invoicesAtKra(simulator, pin, String(sale.number))).toHaveLength(1);
    expect(simulator.transmissions(pin, '00', 2)).toBe(0);
    expect((await saleOf(business, sale.id)).etims).toMatchObject({
      status: 'signed',
      invoiceNumber: 1,
      signature: null,
    });
    const receipt = await http
      .get(`/sales/${sale.id}/receipt?format=json`)
      .set('Authorization', business.cashier.auth);
    expect(receipt.status, receipt.text).toBe(200);
    expect(receipt.body.etims).toBeNull();
  });

  it('a refusal is failed with KRA code, managers are told, and a manager can retry after the fix', async () => {
    const { business, pin, product } = await shop({
      kind: 'refusing',
      resultCd: '910',
      detail: 'simulated refusal',
    });
    const { sale } = await sell(business, product);
    const document = await onlyDocument(sale.id);
    expect(await attempt(deps, document.id)).toBe('failed');
    expect(await attempt(deps, document.id)).toBe('not-pending');

    const block = (await saleOf(business, sale.id)).etims;
    expect(block).toMatchObject({ status: 'failed', error: { code: '910' } });
    const told = await deps.db.select().from(outbox).where(eq(outbox.businessId, business.id));
    expect(told.filter((row) => row.type === 'sale.etims_failed')).toHaveLength(1);
    const mails = told.filter((row) => row.kind === 'email' && row.type === 'etims-failed');
    expect(mails.map((row) => (row.payload as { to: string }).to).sort()).toEqual(
      [business.owner.email, business.manager.email].sort(),
    );

    const cashierTry = await http
      .post(`/sales/${sale.id}/etims/retry`)
      .set('Authorization', business.cashier.auth);
    expect(cashierTry.status).toBe(403);
    const stranger = await createBusiness(deps);
    const otherTenant = await http
      .post(`/sales/${sale.id}/etims/retry`)
      .set('Authorization', stranger.owner.auth);
    expect(otherTenant.status).toBe(404);

    setPinMode(harness, pin, { kind: 'normal' });
    const retried = await http
      .post(`/sales/${sale.id}/etims/retry`)
      .set('Authorization', business.manager.auth);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ status: 'pending', invoiceNumber: 1 });
    expect(await queuedTransmits(deps, business.id)).toEqual([document.id, document.id]);
    expect(await attempt(deps, document.id)).toBe('signed');
    expect(simulator.transmissions(pin, '00', 1)).toBe(2);
    expect(invoicesAtKra(simulator, pin, String(sale.number))).toHaveLength(1);
  });

  it('a sale replayed and synced again has one invoice, transmitted once', async () => {
    const { business, pin, product } = await shop();
    const { sale, body } = await sell(business, product);
    const replay = await http.post('/sales').set('Authorization', business.cashier.auth).send(body);
    expect(replay.status).toBe(200);
    expect(replay.body.etims).toMatchObject({ status: 'pending' });
    const synced = await http
      .post('/sales/sync')
      .set('Authorization', business.cashier.auth)
      .send({ sales: [body] });
    expect(synced.status, JSON.stringify(synced.body)).toBeLessThan(300);
    const document = await onlyDocument(sale.id);
    expect(await queuedTransmits(deps, business.id)).toEqual([document.id]);
    for (const id of await queuedTransmits(deps, business.id)) await attempt(deps, id);
    await attempt(deps, document.id);
    expect(simulator.transmissions(pin, '00', 1)).toBe(1);
    expect(invoicesAtKra(simulator, pin, String(sale.number))).toHaveLength(1);
  });

  it('a void after signing is a credit note (R) for the whole sale referencing the invoice', async () => {
    const { business, pin, product } = await shop();
    const { sale } = await sell(business, product);
    const [invoice] = await documentsOfSale(deps, sale.id);
    expect(await attempt(deps, invoice!.id)).toBe('signed');

    const voided = await http
      .post(`/sales/${sale.id}/void`)
      .set('Authorization', business.manager.auth)
      .send({ reason: 'wrong items' });
    expect(voided.status, JSON.stringify(voided.body)).toBe(200);
    expect(voided.body.etims).toMatchObject({
      status: 'signed',
      creditNote: { status: 'pending', invoiceNumber: null },
    });
    // A second void changes nothing.
    await http
      .post(`/sales/${sale.id}/void`)
      .set('Authorization', business.manager.auth)
      .send({ reason: 'again' });
    const documents = await documentsOfSale(deps, sale.id);
    expect(documents.map((row) => row.kind).sort()).toEqual(['credit_note', 'sale']);
    const credit = documents.find((row) => row.kind === 'credit_note')!;
    expect(await attempt(deps, credit.id)).toBe('signed');
    expect(await attempt(deps, credit.id)).toBe('already-signed');

    const atKra = invoicesAtKra(simulator, pin, `${sale.number}-CN`);
    expect(atKra).toHaveLength(1);
    expect(atKra[0]?.request).toMatchObject({
      invcNo: 2,
      orgInvcNo: 1,
      rcptTyCd: 'R',
      rfdRsnCd: '06',
      totAmt: 232,
    });
    expect(simulator.transmissions(pin, '00', 2)).toBe(1);
    expect((await saleOf(business, sale.id)).etims).toMatchObject({
      status: 'signed',
      invoiceNumber: 1,
      creditNote: { status: 'signed', invoiceNumber: 2 },
    });
    // Stock came back: stock in (03) under the credit note's number.
    expect(simulator.state.stockIo.get(`${pin}/00/2`)).toMatchObject({
      sarTyCd: '03',
      orgSarNo: 1,
    });
  });

  it('a void before the invoice is signed waits for it, then credits it', async () => {
    const { business, pin, product } = await shop();
    const { sale } = await sell(business, product);
    await http
      .post(`/sales/${sale.id}/void`)
      .set('Authorization', business.manager.auth)
      .send({ reason: 'oops' });
    const documents = await documentsOfSale(deps, sale.id);
    const credit = documents.find((row) => row.kind === 'credit_note')!;
    const invoice = documents.find((row) => row.kind === 'sale')!;
    expect(await attempt(deps, credit.id)).toBe('retry');
    expect(await attempt(deps, invoice.id)).toBe('signed');
    expect(await attempt(deps, credit.id)).toBe('signed');
    expect(invoicesAtKra(simulator, pin, `${sale.number}-CN`)[0]?.request.orgInvcNo).toBe(1);
  });

  it('switching eTIMS on sends only sales that occur from then on', async () => {
    const business = await createBusiness(deps);
    const product = await insertProduct(deps, business.id, business.owner.id);
    const before = await sell(business, product);
    expect(before.sale.etims).toBeNull();
    const pin = await enableEtims(harness, business);
    // Rung up offline before the switch, synced after: not sent either.
    const offline = await sell(business, product, {
      occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
    });
    expect(offline.sale.etims).toBeNull();
    const after = await sell(business, product, { occurredAt: new Date().toISOString() });
    expect(after.sale.etims).toMatchObject({ status: 'pending' });
    expect(await documentsOfSale(deps, before.sale.id)).toHaveLength(0);
    expect(await documentsOfSale(deps, offline.sale.id)).toHaveLength(0);
    expect((await saleOf(business, before.sale.id)).etims).toBeNull();
    const [document] = await documentsOfSale(deps, after.sale.id);
    expect(await attempt(deps, document!.id)).toBe('signed');
    expect(
      [...simulator.state.invoices.values()].filter((i) => i.request.tin === pin),
    ).toHaveLength(1);
  });

  it('invoice numbers are gap-free per branch across sales and credit notes', async () => {
    const { business, pin, product } = await shop();
    const sales = [];
    for (let i = 0; i < 4; i += 1) sales.push((await sell(business, product)).sale);
    const documents = (await Promise.all(sales.map((s) => documentsOfSale(deps, s.id)))).flat();
    await Promise.all(documents.map((row) => attempt(deps, row.id)));
    const numbers = (await Promise.all(sales.map((s) => onlyDocument(s.id))))
      .map((row) => row.invoiceNumber)
      .sort();
    expect(numbers).toEqual([1, 2, 3, 4]);
    for (const n of [1, 2, 3, 4]) expect(simulator.transmissions(pin, '00', n)).toBe(1);
  });

  it('a location never initialised fails with a reason and is retried after initialising', async () => {
    const business = await createBusiness(deps);
    const product = await insertProduct(deps, business.id, business.owner.id);
    const pin = await enableEtims(harness, business);
    await deps.db.delete(etimsDevices).where(eq(etimsDevices.businessId, business.id));
    const { sale } = await sell(business, product);
    const document = await onlyDocument(sale.id);
    expect(await attempt(deps, document.id)).toBe('failed');
    expect((await onlyDocument(sale.id)).errorCode).toBe('NOT_INITIALIZED');
    // KRA has the device already (902): a fresh initialisation needs a new PIN here, so the
    // shop's PIN changes and the device is initialised for it.
    const newPin = await enableEtims(harness, business);
    expect(newPin).not.toBe(pin);
    await http.post(`/sales/${sale.id}/etims/retry`).set('Authorization', business.owner.auth);
    expect(await attempt(deps, document.id)).toBe('signed');
  });

  it('an unknown sale id is 404 on retry', async () => {
    const { business } = await shop();
    const response = await http
      .post(`/sales/${randomUUID()}/etims/retry`)
      .set('Authorization', business.owner.auth);
    expect(response.status).toBe(404);
  });
});
