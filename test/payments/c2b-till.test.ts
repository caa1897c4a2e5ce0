import { and, count, eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { c2bInbox, c2bPayments, salePayments } from '../../src/db/schema/index.js';
import { applyC2bConfirmation } from '../../src/modules/till/till.job.js';
import type { TestBusiness } from '../helpers/factories.js';
import { createBusiness } from '../helpers/factories.js';
import { outboxRowsOf } from '../helpers/outbox.js';
import { newTillApp, startPaymentsHarness, waitFor } from '../helpers/payments.js';
import { insertProduct, saleBody, type TestProduct } from '../helpers/sales-factories.js';

// M-Pesa at the till over HTTP: the business's own app registers its C2B URLs with the
// Daraja simulator, customers pay the till, the confirmations are stored and applied, and
// sales claim the receipts.
const { http, deps, simulator, configureTill } = await startPaymentsHarness({
  simulator: { c2bValidationTimeoutMs: 2_000 },
});

interface Shop {
  business: TestBusiness;
  shortcode: string;
  product: TestProduct;
  confirmationUrl: string;
  validationUrl: string;
}

/** A business with its own Daraja app, its C2B URLs registered, and a KSh 500 product. */
async function shopWithTill(): Promise<Shop> {
  const business = await createBusiness(deps);
  const app = newTillApp(simulator, 'till');
  expect((await configureTill(business, app)).status).toBe(200);
  const registered = await http
    .post('/business/mpesa/register-c2b')
    .set('Authorization', business.owner.auth);
  expect(registered.status).toBe(200);
  const product = await insertProduct(deps, business.id, business.owner.id, { price: 50_000 });
  return {
    business,
    shortcode: app.shortcode,
    product,
    confirmationUrl: registered.body.c2bConfirmationUrl,
    validationUrl: registered.body.c2bValidationUrl,
  };
}

const pathOf = (url: string) => new URL(url).pathname;

/** Daraja's confirmation body for a payment into `shortcode`. */
function confirmation(shortcode: string, transId: string, shillings: number) {
  return {
    TransactionType: 'Buy Goods',
    TransID: transId,
    TransTime: '20261206081500',
    TransAmount: shillings.toFixed(2),
    BusinessShortCode: shortcode,
    BillRefNumber: '',
    InvoiceNumber: '',
    OrgAccountBalance: '1500.00',
    ThirdPartyTransID: '',
    MSISDN: '2547 ***** 126',
    FirstName: 'Wanjiru',
    MiddleName: '',
    LastName: '',
  };
}

let receipts = 0;
const newTransId = () => `TK${String(Date.now()).slice(-6)}${String(++receipts).padStart(4, '0')}`;

/** Applies every stored, unapplied confirmation of the business: the worker's job. */
async function applyAll(businessId: string): Promise<string[]> {
  const jobs = await outboxRowsOf(deps, businessId, { types: ['till:apply-c2b'] });
  return Promise.all(
    jobs.map((row) => applyC2bConfirmation(deps, (row.payload as { inboxId: string }).inboxId)),
  );
}

async function inboxCount(businessId?: string) {
  const [row] = await deps.db
    .select({ value: count() })
    .from(c2bInbox)
    .where(businessId === undefined ? undefined : eq(c2bInbox.businessId, businessId));
  return row!.value;
}

async function receiptsOf(businessId: string, transId: string) {
  return deps.db
    .select()
    .from(c2bPayments)
    .where(and(eq(c2bPayments.businessId, businessId), eq(c2bPayments.transId, transId)));
}

const sellFor = (shop: Shop, transId: string, amount = 50_000, auth = shop.business.cashier.auth) =>
  http
    .post('/sales')
    .set('Authorization', auth)
    .send(
      saleBody([{ product: shop.product, quantity: amount / 50_000 }], {
        payments: [{ method: 'mpesa', amount, reference: transId }],
      }),
    );

const listTill = (shop: Shop, query = '') =>
  http.get(`/bv-payments/c2b${query}`).set('Authorization', shop.business.cashier.auth);

describe('a customer pays the till (Daraja simulator over HTTP)', () => {
  it('registers the business’s own URLs, stores the confirmation, lists it, and a sale claims it', async () => {
    const shop = await shopWithTill();
    const registration = simulator.c2b.registrations.get(shop.shortcode);
    expect(registration).toMatchObject({
      responseType: 'Completed',
      confirmationUrl: shop.confirmationUrl,
      validationUrl: shop.validationUrl,
    });
    expect(shop.confirmationUrl).toMatch(
      /\/bv-payments\/callbacks\/c2b\/[0-9a-f]{64}\/confirmation$/,
    );

    const paid = await simulator.payC2b({
      shortcode: shop.shortcode,
      commandId: 'CustomerBuyGoodsOnline',
      amount: 500,
      msisdn: '254712345126',
    });
    expect(paid).toMatchObject({ validation: 'accepted', confirmation: 'delivered' });
    expect(paid.confirmationStatus).toBe(200);
    expect(await applyAll(shop.business.id)).toEqual(['applied']);

    const listed = await listTill(shop, '?status=unclaimed');
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      {
        transId: paid.transId,
        amount: 50_000,
        msisdn: '2547 ***** 126',
        firstName: paid.firstName,
        billRefNumber: '',
        transTime: paid.transTime,
        status: 'unclaimed',
      },
    ]);

    const sale = await sellFor(shop, paid.transId.toLowerCase());
    expect(sale.status).toBe(201);
    expect(sale.body.payments[0]).not.toHaveProperty('needsReview');
    const claimed = await listTill(shop, '?status=claimed');
    expect(claimed.body.data).toEqual([
      expect.objectContaining({ transId: paid.transId, status: 'claimed', saleId: sale.body.id }),
    ]);
    expect((await listTill(shop, '?status=unclaimed')).body.data).toEqual([]);
    expect((await listTill(shop, '?amount=49900')).body.data).toEqual([]);
    expect(await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] })).toEqual([]);
  });

  it('an unknown token → 404 and nothing stored, for validation and confirmation', async () => {
    const shop = await shopWithTill();
    // Counted by TransID: other test files store confirmations at the same time.
    const transIds = [newTransId(), newTransId()];
    for (const [index, kind] of ['validation', 'confirmation'].entries()) {
      const response = await http
        .post(`/bv-payments/callbacks/c2b/${'0'.repeat(64)}/${kind}`)
        .send(confirmation(shop.shortcode, transIds[index]!, 500));
      expect(response.status).toBe(404);
    }
    const [stored] = await deps.db
      .select({ value: count() })
      .from(c2bInbox)
      .where(inArray(sql`${c2bInbox.rawPayload}->>'TransID'`, transIds));
    expect(stored!.value).toBe(0);
  });

  it('forged and malformed payloads: stored as evidence, validation rejects, nothing applied', async () => {
    const shop = await shopWithTill();
    const forgedValidation = await http
      .post(pathOf(shop.validationUrl))
      .send({ TransID: 'x', hello: 'world' });
    expect(forgedValidation.status).toBe(200);
    expect(forgedValidation.body).toEqual({ ResultCode: 'C2B00016', ResultDesc: 'Rejected' });

    const otherShortcode = await http
      .post(pathOf(shop.validationUrl))
      .send(confirmation('999999', newTransId(), 500));
    expect(otherShortcode.body).toEqual({ ResultCode: 'C2B00015', ResultDesc: 'Rejected' });

    for (const body of [
      { Body: { stkCallback: {} } },
      confirmation(shop.shortcode, 'not a receipt!', 500),
      { ...confirmation(shop.shortcode, newTransId(), 500), TransAmount: '-5' },
      confirmation('999999', newTransId(), 500),
    ]) {
      const response = await http.post(pathOf(shop.confirmationUrl)).send(body);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ResultCode: '0', ResultDesc: 'Accepted' });
    }
    const notJson = await http
      .post(pathOf(shop.confirmationUrl))
      .set('content-type', 'application/json')
      .send('{"TransID":');
    expect(notJson.status).toBe(400);

    expect(await inboxCount(shop.business.id)).toBe(6);
    expect((await applyAll(shop.business.id)).sort()).toEqual([
      'malformed',
      'malformed',
      'malformed',
      'wrong_shortcode',
    ]);
    const [receipts] = await deps.db
      .select({ value: count() })
      .from(c2bPayments)
      .where(eq(c2bPayments.businessId, shop.business.id));
    expect(receipts!.value).toBe(0);
  });

  it('the same TransID delivered 5 times concurrently is kept once', async () => {
    const shop = await shopWithTill();
    const paid = await simulator.payC2b({
      shortcode: shop.shortcode,
      commandId: 'CustomerBuyGoodsOnline',
      amount: 500,
      msisdn: '254712345126',
    });
    const statuses = await Promise.all(
      Array.from({ length: 5 }, () => simulator.c2b.redeliver(paid.transId)),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    // Every request is stored: the validation, the confirmation and its 5 repeats.
    expect(await inboxCount(shop.business.id)).toBe(7);
    const outcomes = await applyAll(shop.business.id);
    expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(5);
    expect(await receiptsOf(shop.business.id, paid.transId)).toHaveLength(1);
    // Applying again changes nothing.
    expect(new Set(await applyAll(shop.business.id))).toEqual(new Set(['applied', 'duplicate']));
    expect(await receiptsOf(shop.business.id, paid.transId)).toHaveLength(1);
  });

  it('two sales claiming one receipt at the same moment: exactly one claim, the other needsReview', async () => {
    const shop = await shopWithTill();
    const transId = newTransId();
    await http
      .post(pathOf(shop.confirmationUrl))
      .send(confirmation(shop.shortcode, transId, 500))
      .expect(200);
    expect(await applyAll(shop.business.id)).toEqual(['applied']);

    const sales = await Promise.all([
      sellFor(shop, transId),
      sellFor(shop, transId, 50_000, shop.business.cashier2.auth),
      sellFor(shop, transId, 50_000, shop.business.manager.auth),
    ]);
    expect(sales.map((sale) => sale.status)).toEqual([201, 201, 201]);
    const flagged = sales.filter((sale) => sale.body.payments[0].needsReview === true);
    expect(flagged).toHaveLength(2);
    const [receipt] = await receiptsOf(shop.business.id, transId);
    const winner = sales.find((sale) => sale.body.payments[0].needsReview === undefined)!;
    expect(receipt!.saleId).toBe(winner.body.id);

    const conflicts = await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] });
    expect(
      conflicts
        .map((row) => row.payload)
        .sort((a, b) => String(a.saleId).localeCompare(String(b.saleId))),
    ).toEqual(
      flagged
        .map((sale) => ({
          transId,
          saleId: sale.body.id as string,
          amount: 50_000,
          receivedAmount: 50_000,
          reason: 'already_claimed',
          claimedBySaleId: winner.body.id as string,
        }))
        .sort((a, b) => a.saleId.localeCompare(b.saleId)),
    );
    // The flag is stored: a read shows it.
    const read = await http
      .get(`/sales/${flagged[0]!.body.id}`)
      .set('Authorization', shop.business.owner.auth);
    expect(read.body.payments[0].needsReview).toBe(true);
  });

  it('an amount that differs: the sale takes the receipt, flagged, with payment.conflict', async () => {
    const shop = await shopWithTill();
    const transId = newTransId();
    await http
      .post(pathOf(shop.confirmationUrl))
      .send(confirmation(shop.shortcode, transId, 499))
      .expect(200);
    await applyAll(shop.business.id);
    const sale = await sellFor(shop, transId);
    expect(sale.status).toBe(201);
    expect(sale.body.payments[0]).toMatchObject({ reference: transId, needsReview: true });
    const [receipt] = await receiptsOf(shop.business.id, transId);
    expect(receipt!.saleId).toBe(sale.body.id);
    const [conflict] = await outboxRowsOf(deps, shop.business.id, {
      types: ['payment.conflict'],
    });
    expect(conflict!.payload).toMatchObject({
      saleId: sale.body.id,
      amount: 50_000,
      receivedAmount: 49_900,
      reason: 'amount_mismatch',
    });
  });

  it('a sale naming a receipt not yet received is accepted and claims it when the confirmation arrives', async () => {
    const shop = await shopWithTill();
    const transId = newTransId();
    const first = await sellFor(shop, transId);
    const second = await sellFor(shop, transId, 50_000, shop.business.cashier2.auth);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.body.payments[0]).not.toHaveProperty('needsReview');
    expect(second.body.payments[0]).not.toHaveProperty('needsReview');
    expect(await receiptsOf(shop.business.id, transId)).toEqual([]);

    await http
      .post(pathOf(shop.confirmationUrl))
      .send(confirmation(shop.shortcode, transId, 500))
      .expect(200);
    expect(await applyAll(shop.business.id)).toEqual(['claimed']);
    const [receipt] = await receiptsOf(shop.business.id, transId);
    expect(receipt!.saleId).toBe(first.body.id);
    const flags = await deps.db
      .select({ saleId: salePayments.saleId, needsReview: salePayments.needsReview })
      .from(salePayments)
      .where(eq(salePayments.businessId, shop.business.id));
    expect(flags).toEqual(
      expect.arrayContaining([
        { saleId: first.body.id, needsReview: false },
        { saleId: second.body.id, needsReview: true },
      ]),
    );
    const conflicts = await outboxRowsOf(deps, shop.business.id, { types: ['payment.conflict'] });
    expect(conflicts.map((row) => row.payload)).toEqual([
      expect.objectContaining({
        saleId: second.body.id,
        reason: 'already_claimed',
        claimedBySaleId: first.body.id,
      }),
    ]);
  });

  it('a confirmation and a sale racing for the same receipt end with one claim', async () => {
    const shop = await shopWithTill();
    const transId = newTransId();
    await http
      .post(pathOf(shop.confirmationUrl))
      .send(confirmation(shop.shortcode, transId, 500))
      .expect(200);
    const [, sale] = await Promise.all([applyAll(shop.business.id), sellFor(shop, transId)]);
    expect(sale.status).toBe(201);
    expect(sale.body.payments[0]).not.toHaveProperty('needsReview');
    const [receipt] = await waitFor(async () => {
      const rows = await receiptsOf(shop.business.id, transId);
      return rows[0]?.saleId ? rows : undefined;
    }, 'the claim');
    expect(receipt!.saleId).toBe(sale.body.id);
  });
});

describe('tenancy and roles', () => {
  it('another business sees none of the till payments and cannot claim them', async () => {
    const shop = await shopWithTill();
    const other = await shopWithTill();
    const transId = newTransId();
    await http
      .post(pathOf(shop.confirmationUrl))
      .send(confirmation(shop.shortcode, transId, 500))
      .expect(200);
    await applyAll(shop.business.id);
    // The other business's URL with this shop's shortcode: not applied to either.
    await http
      .post(pathOf(other.confirmationUrl))
      .send(confirmation(shop.shortcode, newTransId(), 500))
      .expect(200);
    expect(await applyAll(other.business.id)).toEqual(['wrong_shortcode']);

    expect((await listTill(other)).body.data).toEqual([]);
    const sale = await sellFor(other, transId);
    expect(sale.status).toBe(201);
    const [receipt] = await receiptsOf(shop.business.id, transId);
    expect(receipt!.saleId).toBeNull();
  });

  it('every role lists till payments; only the owner reads or changes settings and registers', async () => {
    const shop = await shopWithTill();
    for (const user of [shop.business.owner, shop.business.manager, shop.business.cashier]) {
      const listed = await http.get('/bv-payments/c2b').set('Authorization', user.auth);
      expect(listed.status).toBe(200);
    }
    for (const user of [shop.business.manager, shop.business.cashier]) {
      expect((await http.get('/business/mpesa').set('Authorization', user.auth)).status).toBe(403);
      expect(
        (await http.post('/business/mpesa/register-c2b').set('Authorization', user.auth)).status,
      ).toBe(403);
      const put = await http
        .put('/business/mpesa')
        .set('Authorization', user.auth)
        .send(newTillApp(simulator));
      expect(put.status).toBe(403);
    }
    expect((await http.get('/bv-payments/c2b')).status).toBe(401);
  });

  it('validates the list filters', async () => {
    const shop = await shopWithTill();
    for (const query of ['?status=paid', '?amount=-1', '?since=yesterday', '?cursor=%%%']) {
      expect((await listTill(shop, query)).status).toBe(400);
    }
  });
});
