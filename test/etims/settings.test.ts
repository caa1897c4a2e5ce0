import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { etimsDevices, etimsItems, outbox } from '../../src/db/schema/index.js';
import { processRegisterItem } from '../../src/modules/etims/etims.job.js';
import { postProduct } from '../helpers/catalog.js';
import { enableEtims, newKraPin, startEtimsHarness } from '../helpers/etims.js';
import { createBusiness } from '../helpers/factories.js';

const harness = await startEtimsHarness();
const { http, deps, simulator, logs } = harness;

describe('eTIMS settings and device initialisation', () => {
  it('owner only; the PIN and the communication key never appear in answers or logs', async () => {
    const business = await createBusiness(deps);
    const pin = newKraPin();
    const bodies: string[] = [];

    const empty = await http.get('/business/etims').set('Authorization', business.owner.auth);
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ configured: false, enabled: false, kraPinHint: null });

    for (const user of [business.manager, business.cashier]) {
      const put = await http
        .put('/business/etims')
        .set('Authorization', user.auth)
        .send({ kraPin: pin, environment: 'sandbox', enabled: true });
      expect(put.status).toBe(403);
      expect((await http.get('/business/etims').set('Authorization', user.auth)).status).toBe(403);
      expect(
        (await http.post('/business/etims/initialize').set('Authorization', user.auth)).status,
      ).toBe(403);
    }
    const early = await http
      .post('/business/etims/initialize')
      .set('Authorization', business.owner.auth);
    expect(early.status).toBe(409);

    const put = await http
      .put('/business/etims')
      .set('Authorization', business.owner.auth)
      .send({ kraPin: pin, environment: 'sandbox', enabled: true });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({
      configured: true,
      kraPinHint: `…${pin.slice(-3)}`,
      environment: 'sandbox',
      enabled: true,
      devices: [{ etimsBranchId: '00', initialized: false }],
    });
    bodies.push(put.text);

    const init = await http
      .post('/business/etims/initialize')
      .set('Authorization', business.owner.auth);
    expect(init.status, init.text).toBe(200);
    expect(init.body.devices).toEqual([
      expect.objectContaining({ result: 'initialized', initialized: true, error: null }),
    ]);
    bodies.push(init.text);
    const again = await http
      .post('/business/etims/initialize')
      .set('Authorization', business.owner.auth);
    expect(again.body.devices[0].result).toBe('already-initialized');
    bodies.push(again.text);
    const read = await http.get('/business/etims').set('Authorization', business.owner.auth);
    expect(read.body.devices[0]).toMatchObject({ initialized: true, sdcId: expect.any(String) });
    bodies.push(read.text);

    // KRA's key, as the simulator issued it, is stored only encrypted.
    const device = simulator.state.devices.get(`${pin}/00`)!;
    const [stored] = await deps.db
      .select()
      .from(etimsDevices)
      .where(eq(etimsDevices.businessId, business.id));
    expect(stored?.cmcKeyCiphertext).toMatch(/^v1\./);
    expect(stored?.cmcKeyCiphertext).not.toContain(device.cmcKey);
    expect(JSON.stringify(stored?.info)).not.toContain(device.cmcKey);

    // A sale is signed with that key (the worker decrypts it)…
    const product = await postProduct(http, business.owner, { price: 5_000, taxRate: 1600 });
    await processRegisterItem(deps, business.id, product.id);
    expect(simulator.state.items.size).toBeGreaterThan(0);

    for (const body of bodies) {
      expect(body).not.toContain(pin);
      expect(body).not.toContain(device.cmcKey);
    }
    const logText = logs.join('');
    expect(logText).toContain('eTIMS call');
    expect(logText).not.toContain(pin);
    expect(logText).not.toContain(device.cmcKey);
  });

  it('refuses a malformed PIN, an unknown environment and unknown fields', async () => {
    const business = await createBusiness(deps);
    for (const body of [
      { kraPin: 'not-a-pin', environment: 'sandbox', enabled: true },
      { kraPin: newKraPin(), environment: 'staging', enabled: true },
      { kraPin: newKraPin(), environment: 'sandbox', enabled: true, cmcKey: 'x' },
      { kraPin: newKraPin(), environment: 'sandbox' },
    ]) {
      const response = await http
        .put('/business/etims')
        .set('Authorization', business.owner.auth)
        .send(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('switching off and on again moves enabledAt; switching a PIN needs a new initialisation', async () => {
    const business = await createBusiness(deps);
    const pin = await enableEtims(harness, business);
    const first = await http.get('/business/etims').set('Authorization', business.owner.auth);
    const off = await http
      .put('/business/etims')
      .set('Authorization', business.owner.auth)
      .send({ kraPin: pin, environment: 'sandbox', enabled: false });
    expect(off.body.enabledAt).toBe(first.body.enabledAt);
    const on = await http
      .put('/business/etims')
      .set('Authorization', business.owner.auth)
      .send({ kraPin: pin, environment: 'sandbox', enabled: true });
    expect(Date.parse(on.body.enabledAt)).toBeGreaterThan(Date.parse(first.body.enabledAt));
    expect(on.body.devices[0].initialized).toBe(true);
    const other = await http
      .put('/business/etims')
      .set('Authorization', business.owner.auth)
      .send({ kraPin: newKraPin(), environment: 'sandbox', enabled: true });
    expect(other.body.devices[0].initialized).toBe(false);
  });
});

describe('products carry an eTIMS tax type', () => {
  it('taxType and taxRate agree, either one implies the other, a disagreement is 422 naming taxRate', async () => {
    const business = await createBusiness(deps);
    const owner = business.owner;
    expect(await postProduct(http, owner, { taxRate: 1600 })).toMatchObject({ taxType: 'B' });
    expect(await postProduct(http, owner, { taxRate: 800 })).toMatchObject({ taxType: 'E' });
    expect(await postProduct(http, owner, { taxRate: 0 })).toMatchObject({ taxType: 'A' });
    const zero = await postProduct(http, owner, {
      taxRate: undefined,
      taxType: 'C',
      etimsItemClassCode: '5020230500',
    });
    expect(zero).toMatchObject({ taxType: 'C', taxRate: 0, etimsItemClassCode: '5020230500' });

    const bad = await http
      .post('/products')
      .set('Authorization', owner.auth)
      .send({ name: 'Bad', price: 100, taxType: 'B', taxRate: 800 });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'taxRate' })]);
    const offBand = await http
      .post('/products')
      .set('Authorization', owner.auth)
      .send({ name: 'Odd', price: 100, taxRate: 1400 });
    expect(offBand.status).toBe(422);
    const badType = await http
      .post('/products')
      .set('Authorization', owner.auth)
      .send({ name: 'Odd', price: 100, taxType: 'F' });
    expect(badType.status).toBe(400);

    const patched = await http
      .patch(`/products/${zero.id}`)
      .set('Authorization', owner.auth)
      .send({ taxType: 'D' });
    expect(patched.body).toMatchObject({ taxType: 'D', taxRate: 0 });
    const toB = await http
      .patch(`/products/${zero.id}`)
      .set('Authorization', owner.auth)
      .send({ taxRate: 1600 });
    expect(toB.body).toMatchObject({ taxType: 'B', taxRate: 1600 });
    const clash = await http
      .patch(`/products/${zero.id}`)
      .set('Authorization', owner.auth)
      .send({ taxType: 'E', taxRate: 1600 });
    expect(clash.status).toBe(422);
    // The list renders the same fields (product-page.statement.ts).
    const list = await http.get('/products').set('Authorization', owner.auth);
    const listed = list.body.data.find((p: { id: string }) => p.id === zero.id);
    expect(listed).toMatchObject({ taxType: 'B', etimsItemClassCode: '5020230500' });
  });

  it('a product created or changed in an eTIMS business is registered with KRA through the outbox', async () => {
    const plain = await createBusiness(deps);
    await postProduct(http, plain.owner);
    const queuedPlain = await deps.db.select().from(outbox).where(eq(outbox.businessId, plain.id));
    expect(queuedPlain.filter((row) => row.type === 'etims:register-item')).toHaveLength(0);

    const business = await createBusiness(deps);
    const pin = await enableEtims(harness, business);
    const product = await postProduct(http, business.owner, { taxRate: 800 });
    await http
      .patch(`/products/${product.id}`)
      .set('Authorization', business.owner.auth)
      .send({ name: 'Renamed' });
    const queued = (
      await deps.db.select().from(outbox).where(eq(outbox.businessId, business.id))
    ).filter((row) => row.type === 'etims:register-item');
    expect(queued).toHaveLength(2);
    expect(await processRegisterItem(deps, business.id, product.id)).toBe(1);
    const [item] = await deps.db
      .select()
      .from(etimsItems)
      .where(eq(etimsItems.productId, product.id));
    expect(item).toMatchObject({ itemCode: 'KE2NTU0000001', registeredBranches: ['00'] });
    expect(simulator.state.items.get(`${pin}/00/KE2NTU0000001`)).toMatchObject({
      itemNm: 'Renamed',
      taxTyCd: 'E',
      itemTyCd: '2',
    });
  });
});
