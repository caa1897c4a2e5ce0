import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { etimsDocuments, outbox } from '../../src/db/schema/index.js';
import { processRegisterItem } from '../../src/modules/etims/etims.job.js';
import { parseEscPos, qrCommands } from '../helpers/escpos.js';
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
import { postReturn, returnBody, sell, type SoldSale } from '../helpers/returns.js';
import { insertProduct } from '../helpers/sales-factories.js';

const harness = await startEtimsHarness({ timeoutMs: 1_000 });
const { http, deps, simulator } = harness;

interface ReturnBody {
  id: string;
  number: number;
  total: number;
  etims: Record<string, unknown> | null;
}

/** eTIMS on, device initialised, two products registered: 116.00 (B, 16 %) and 50.00 (B). */
async function shop() {
  const business = await createBusiness(deps);
  const pin = await enableEtims(harness, business);
  const soap = await insertProduct(deps, business.id, business.owner.id, {
    price: 11_600,
    taxRate: 1600,
  });
  const salt = await insertProduct(deps, business.id, business.owner.id, {
    price: 5_000,
    taxRate: 1600,
  });
  expect(await processRegisterItem(deps, business.id, soap.id)).toBe(1);
  expect(await processRegisterItem(deps, business.id, salt.id)).toBe(1);
  return { business, pin, soap, salt };
}

/** 3 × soap + 2 × salt (448.00), occurring now (after the switch), with its eTIMS invoice. */
async function sale(shopped: Awaited<ReturnType<typeof shop>>) {
  const sold = await sell(
    http,
    shopped.business.cashier,
    [
      { product: shopped.soap, quantity: 3 },
      { product: shopped.salt, quantity: 2 },
    ],
    { occurredAt: new Date().toISOString() },
  );
  const [invoice] = await documentsOfSale(deps, sold.id);
  expect(invoice).toMatchObject({ kind: 'sale', returnId: null });
  return { sold, invoice: invoice! };
}

/** A return of one soap (116.00, tax 16.00), occurring now. */
function oneSoap(sold: SoldSale, overrides: Record<string, unknown> = {}) {
  return returnBody(sold, [{ saleLineId: sold.lines[0]!.id, quantity: 1 }], 11_600, {
    occurredAt: new Date().toISOString(),
    ...overrides,
  });
}

async function creditNotesOf(returnId: string) {
  return deps.db.select().from(etimsDocuments).where(eq(etimsDocuments.returnId, returnId));
}

const getReturn = async (business: TestBusiness, id: string) => {
  const response = await http.get(`/returns/${id}`).set('Authorization', business.manager.auth);
  expect(response.status, response.text).toBe(200);
  return response.body as ReturnBody;
};

describe('eTIMS credit notes of returns', () => {
  it('a return of part of a signed sale is one credit note (R) of the returned lines, referencing the invoice', async () => {
    const shopped = await shop();
    const { business, pin } = shopped;
    const { sold, invoice } = await sale(shopped);
    expect(await attempt(deps, invoice.id)).toBe('signed');

    const created = await postReturn(http, business.manager, oneSoap(sold));
    expect(created.status, created.text).toBe(201);
    const ret = created.body as ReturnBody;
    expect(ret.etims).toMatchObject({ status: 'pending', invoiceNumber: null, signature: null });

    const [credit, ...others] = await creditNotesOf(ret.id);
    expect(others).toHaveLength(0);
    expect(credit).toMatchObject({ kind: 'credit_note', saleId: sold.id, status: 'pending' });
    expect(await queuedTransmits(deps, business.id)).toContain(credit!.id);

    expect(await attempt(deps, credit!.id)).toBe('signed');
    expect(await attempt(deps, credit!.id)).toBe('already-signed');

    // At KRA: one credit note, numbered after the invoice, crediting it with the returned soap only.
    expect(simulator.transmissions(pin, '00', 1)).toBe(1);
    expect(simulator.transmissions(pin, '00', 2)).toBe(1);
    const atKra = invoicesAtKra(simulator, pin, `${sold.number}-R${ret.number}`);
    expect(atKra).toHaveLength(1);
    expect(atKra[0]?.request).toMatchObject({
      invcNo: 2,
      orgInvcNo: 1,
      rcptTyCd: 'R',
      rfdRsnCd: '06',
      taxblAmtB: 116,
      taxAmtB: 16,
      totAmt: 116,
      totItemCnt: 1,
    });
    expect(atKra[0]?.request.itemList).toMatchObject([
      { qty: 1, prc: 116, splyAmt: 116, dcAmt: 0, taxTyCd: 'B', taxblAmt: 116, taxAmt: 16 },
    ]);
    const saleAtKra = invoicesAtKra(simulator, pin, String(sold.number));
    expect(saleAtKra).toHaveLength(1);
    expect(atKra[0]?.request.itemList[0]?.itemCd).toBe(saleAtKra[0]?.request.itemList[0]?.itemCd);

    // The Return shows the signed block; the sale's own block is unchanged (no void credit note).
    const read = await getReturn(business, ret.id);
    expect(read.etims).toMatchObject({
      status: 'signed',
      invoiceNumber: 2,
      receiptNumber: atKra[0]?.signature.curRcptNo,
      signature: atKra[0]?.signature.rcptSign,
      internalData: atKra[0]?.signature.intrlData,
    });
    expect(read.etims?.qrUrl).toBe(
      `https://etims-sbx.kra.go.ke/common/link/etims/receipt/indexEtimsReceiptData?Data=${pin}00${atKra[0]?.signature.rcptSign}`,
    );
    const saleRead = await http
      .get(`/sales/${sold.id}`)
      .set('Authorization', business.manager.auth);
    expect(saleRead.body.etims).toMatchObject({
      status: 'signed',
      invoiceNumber: 1,
      creditNote: null,
    });
    const listed = await http
      .get(`/returns?saleId=${sold.id}`)
      .set('Authorization', business.manager.auth);
    expect(listed.body.data[0].etims).toMatchObject({ status: 'signed', invoiceNumber: 2 });

    const events = await deps.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.businessId, business.id), eq(outbox.type, 'return.etims_signed')));
    expect(events).toHaveLength(1);
    expect(events[0]?.payload).toMatchObject({
      returnId: ret.id,
      saleId: sold.id,
      cashierId: business.manager.id,
      etims: { status: 'signed', invoiceNumber: 2 },
    });

    // The credit note receipt prints the KRA block and its QR code.
    const bytes = await http
      .get(`/returns/${ret.id}/receipt?format=escpos&width=80`)
      .set('Authorization', business.manager.auth)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const qr = qrCommands(parseEscPos(bytes.body as Buffer));
    expect(qr.map((command) => command.fn)).toEqual([65, 67, 69, 80, 81]);
    expect(Buffer.from(qr[3]!.params.slice(1)).toString('latin1')).toBe(read.etims?.qrUrl);

    // Stock in (03) of the restocked soap, under the credit note's number.
    expect(simulator.state.stockIo.get(`${pin}/00/2`)).toMatchObject({
      sarTyCd: '03',
      orgSarNo: 1,
      totItemCnt: 1,
    });
  });

  it('a replayed return (same clientRequestId, also in parallel) is still one credit note at KRA', async () => {
    const shopped = await shop();
    const { business, pin } = shopped;
    const { sold, invoice } = await sale(shopped);
    expect(await attempt(deps, invoice.id)).toBe('signed');
    const body = oneSoap(sold);
    const answers = await Promise.all(
      [0, 1, 2].map(() => postReturn(http, business.manager, body)),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 201]);
    const ids = new Set(answers.map((answer) => (answer.body as ReturnBody).id));
    expect(ids.size).toBe(1);
    const [returnId] = [...ids];
    const replayed = await postReturn(http, business.manager, body);
    expect(replayed.status).toBe(200);

    const credits = await creditNotesOf(returnId!);
    expect(credits).toHaveLength(1);
    const transmits = (await queuedTransmits(deps, business.id)).filter((id) => id !== invoice.id);
    expect(transmits).toEqual([credits[0]!.id]);
    await Promise.all([attempt(deps, credits[0]!.id), attempt(deps, credits[0]!.id)]);
    expect(await attempt(deps, credits[0]!.id)).toBe('already-signed');

    const number = (answers[0]!.body as ReturnBody).number;
    expect(invoicesAtKra(simulator, pin, `${sold.number}-R${number}`)).toHaveLength(1);
    expect(simulator.transmissions(pin, '00', 2)).toBe(1);
    expect(simulator.transmissions(pin, '00', 3)).toBe(0);
    // A later replay answers the signed block.
    const later = await postReturn(http, business.manager, body);
    expect(later.status).toBe(200);
    expect((later.body as ReturnBody).etims).toMatchObject({ status: 'signed', invoiceNumber: 2 });
  });

  it("a return before the sale's invoice is signed waits for it; two returns are two credit notes", async () => {
    const shopped = await shop();
    const { business, pin } = shopped;
    const { sold, invoice } = await sale(shopped);
    const first = (await postReturn(http, business.manager, oneSoap(sold)).expect(201))
      .body as ReturnBody;
    // The salt is not put back on the shelf (damaged): no stock in for it.
    const second = (
      await postReturn(
        http,
        business.manager,
        returnBody(sold, [{ saleLineId: sold.lines[1]!.id, quantity: 2, restock: false }], 10_000, {
          occurredAt: new Date().toISOString(),
        }),
      ).expect(201)
    ).body as ReturnBody;
    const [firstCredit] = await creditNotesOf(first.id);
    const [secondCredit] = await creditNotesOf(second.id);

    expect(await attempt(deps, firstCredit!.id)).toBe('retry');
    expect(await attempt(deps, secondCredit!.id)).toBe('retry');
    expect(simulator.transmissions(pin, '00', 1)).toBe(0);
    expect((await getReturn(business, first.id)).etims).toMatchObject({
      status: 'pending',
      invoiceNumber: null,
    });

    expect(await attempt(deps, invoice.id)).toBe('signed');
    expect(await attempt(deps, secondCredit!.id)).toBe('signed');
    expect(await attempt(deps, firstCredit!.id)).toBe('signed');

    const secondAtKra = invoicesAtKra(simulator, pin, `${sold.number}-R${second.number}`);
    const firstAtKra = invoicesAtKra(simulator, pin, `${sold.number}-R${first.number}`);
    expect(secondAtKra).toHaveLength(1);
    expect(firstAtKra).toHaveLength(1);
    expect(secondAtKra[0]?.request).toMatchObject({
      invcNo: 2,
      orgInvcNo: 1,
      rcptTyCd: 'R',
      totAmt: 100,
      taxblAmtB: 100,
    });
    expect(firstAtKra[0]?.request).toMatchObject({ invcNo: 3, orgInvcNo: 1, totAmt: 116 });
    for (const n of [1, 2, 3]) expect(simulator.transmissions(pin, '00', n)).toBe(1);
    expect(simulator.state.stockIo.has(`${pin}/00/2`)).toBe(false);
    expect(simulator.state.stockIo.get(`${pin}/00/3`)).toMatchObject({ sarTyCd: '03' });
    expect((await getReturn(business, second.id)).etims).toMatchObject({
      status: 'signed',
      invoiceNumber: 2,
    });
  });

  it("a refused credit note of a return fails with KRA's code and a manager's retry sends it again, same number", async () => {
    const shopped = await shop();
    const { business, pin } = shopped;
    const { sold, invoice } = await sale(shopped);
    expect(await attempt(deps, invoice.id)).toBe('signed');
    setPinMode(harness, pin, { kind: 'refusing', resultCd: '910', detail: 'simulated refusal' });
    const ret = (await postReturn(http, business.manager, oneSoap(sold)).expect(201))
      .body as ReturnBody;
    const [credit] = await creditNotesOf(ret.id);
    expect(await attempt(deps, credit!.id)).toBe('failed');
    expect((await getReturn(business, ret.id)).etims).toMatchObject({
      status: 'failed',
      invoiceNumber: 2,
      error: { code: '910' },
    });
    const failed = await deps.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.businessId, business.id), eq(outbox.type, 'sale.etims_failed')));
    expect(failed.map((row) => row.payload)).toMatchObject([
      { saleId: sold.id, returnId: ret.id, document: 'credit_note', error: { code: '910' } },
    ]);

    setPinMode(harness, pin, { kind: 'normal' });
    const retried = await http
      .post(`/sales/${sold.id}/etims/retry`)
      .set('Authorization', business.manager.auth);
    expect(retried.status, retried.text).toBe(200);
    expect((await getReturn(business, ret.id)).etims).toMatchObject({
      status: 'pending',
      invoiceNumber: 2,
    });
    expect(await attempt(deps, credit!.id)).toBe('signed');
    expect(simulator.transmissions(pin, '00', 2)).toBe(2);
    expect(simulator.transmissions(pin, '00', 3)).toBe(0);
    expect(invoicesAtKra(simulator, pin, `${sold.number}-R${ret.number}`)).toHaveLength(1);
  });

  it('a void is refused after a return: the sale keeps its one credit note, of the return', async () => {
    const shopped = await shop();
    const { business, pin } = shopped;
    const { sold, invoice } = await sale(shopped);
    expect(await attempt(deps, invoice.id)).toBe('signed');
    const ret = (await postReturn(http, business.manager, oneSoap(sold)).expect(201))
      .body as ReturnBody;
    const voided = await http
      .post(`/sales/${sold.id}/void`)
      .set('Authorization', business.manager.auth)
      .send({ reason: 'too late' });
    expect(voided.status, voided.text).toBe(422);
    const documents = await documentsOfSale(deps, sold.id);
    expect(documents.map((row) => [row.kind, row.returnId]).sort()).toEqual([
      ['credit_note', ret.id],
      ['sale', null],
    ]);
    for (const document of documents) await attempt(deps, document.id);
    expect(simulator.transmissions(pin, '00', 2)).toBe(1);
    expect(invoicesAtKra(simulator, pin, `${sold.number}-CN`)).toHaveLength(0);
  });

  it('a sale without eTIMS: its return has etims null and nothing is queued', async () => {
    const business = await createBusiness(deps);
    const product = await insertProduct(deps, business.id, business.owner.id, { price: 11_600 });
    const sold = await sell(http, business.cashier, [{ product, quantity: 2 }]);
    const ret = (await postReturn(http, business.manager, oneSoap(sold)).expect(201))
      .body as ReturnBody;
    expect(ret.etims).toBeNull();
    expect((await getReturn(business, ret.id)).etims).toBeNull();
    expect(await creditNotesOf(ret.id)).toHaveLength(0);
    expect(await queuedTransmits(deps, business.id)).toEqual([]);
  });
});
