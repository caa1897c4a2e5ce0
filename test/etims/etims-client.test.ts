import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { bandFields, computeBands, toAmount, type BandLine } from '../../src/etims/bands.js';
import { EtimsClient, type OscuCredentials } from '../../src/etims/etims-client.js';
import { startOscuSimulator } from '../../src/etims/simulator/simulator.js';
import type { TrnsSalesSaveWrReq } from '../../src/etims/wire.js';

// The client against the simulator, over HTTP, in each of its modes.
const simulator = await startOscuSimulator();
afterAll(() => simulator.close());

const logLines: string[] = [];
const logger = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);
const client = new EtimsClient({ baseUrl: simulator.baseUrl, timeoutMs: 300, logger });
const TIN = 'P051234567Q';

const device = await client.initializeDevice({ tin: TIN, bhfId: '00', dvcSrlNo: 'till-1' });
if (device.kind !== 'success') throw new Error(`initialisation failed: ${JSON.stringify(device)}`);
const credentials: OscuCredentials = { tin: TIN, bhfId: '00', cmcKey: device.data.cmcKey };

beforeEach(() => simulator.setMode({ kind: 'normal' }));

function sale(invcNo: number, changes: Partial<TrnsSalesSaveWrReq> = {}): TrnsSalesSaveWrReq {
  const lines: (BandLine & { name: string; qty: number })[] = [
    { name: 'Sugar 1kg', qty: 2, taxType: 'B', amountCents: 32_000 },
    { name: 'Maize flour 2kg', qty: 1, taxType: 'A', amountCents: 19_900 },
    { name: 'Bread', qty: 3, taxType: 'E', amountCents: 18_000 },
  ];
  const totals = computeBands(lines);
  return {
    tin: TIN,
    bhfId: '00',
    trdInvcNo: `S-${invcNo}`,
    invcNo,
    orgInvcNo: 0,
    salesTyCd: 'N',
    rcptTyCd: 'S',
    pmtTyCd: '06',
    salesSttsCd: '02',
    cfmDt: '20261206093000',
    salesDt: '20261206',
    totItemCnt: lines.length,
    ...bandFields(totals),
    prchrAcptcYn: 'N',
    regrId: 'cashier-1',
    regrNm: 'Wanjiru',
    modrId: 'cashier-1',
    modrNm: 'Wanjiru',
    receipt: { rcptPbctDt: '20261206093000', prchrAcptcYn: 'N' },
    itemList: lines.map((line, index) => ({
      itemSeq: index + 1,
      itemClsCd: '5059690800',
      itemCd: `KE2NTU000000${index + 1}`,
      itemNm: line.name,
      pkgUnitCd: 'NT',
      pkg: line.qty,
      qtyUnitCd: 'U',
      qty: line.qty,
      prc: toAmount(line.amountCents / line.qty),
      splyAmt: toAmount(line.amountCents),
      dcRt: 0,
      dcAmt: 0,
      taxTyCd: line.taxType,
      taxblAmt: toAmount(line.amountCents),
      taxAmt: toAmount(totals.lineTaxCents[index]!),
      totAmt: toAmount(line.amountCents),
    })),
    ...changes,
  };
}

describe('eTIMS client over HTTP', () => {
  it('initialises a device and signs a sale built from the band computation', async () => {
    expect(device.data).toMatchObject({ tin: TIN, bhfId: '00', sdcId: expect.any(String) });
    const outcome = await client.saveSale(credentials, sale(1));
    expect(outcome).toMatchObject({
      kind: 'success',
      resultCd: '000',
      data: { curRcptNo: 1, totRcptNo: 1, rcptSign: expect.stringMatching(/^[A-Z2-7]{16}$/) },
    });
    expect(simulator.requests.at(-1)?.headers).toMatchObject({
      tin: TIN,
      bhfid: '00',
      cmckey: credentials.cmcKey,
    });
  });

  it('a repeat is `duplicate` (994), not a failure', async () => {
    await client.saveSale(credentials, sale(2));
    const again = await client.saveSale(credentials, sale(2));
    expect(again).toMatchObject({ kind: 'duplicate', resultCd: '994' });
    expect(simulator.transmissions(TIN, '00', 2)).toBe(2);
  });

  it('accepted then timed out: retryable; the retry answers 994; KRA holds one invoice', async () => {
    simulator.setMode({ kind: 'accept-then-timeout', delayMs: 5_000 });
    const first = await client.saveSale(credentials, sale(3));
    expect(first).toMatchObject({ kind: 'retryable', reason: 'timeout' });
    simulator.setMode({ kind: 'normal' });
    const retry = await client.saveSale(credentials, sale(3));
    expect(retry).toMatchObject({ kind: 'duplicate' });
    expect(simulator.transmissions(TIN, '00', 3)).toBe(2);
    expect([...simulator.state.invoices.keys()].filter((k) => k === `${TIN}/00/3`)).toHaveLength(1);
  });

  it('slow past the timeout → retryable timeout; down (503) → retryable http', async () => {
    simulator.setMode({ kind: 'slow', delayMs: 2_000 });
    expect(await client.saveSale(credentials, sale(4))).toMatchObject({
      kind: 'retryable',
      reason: 'timeout',
    });
    simulator.setMode({ kind: 'down', status: 503 });
    expect(await client.saveSale(credentials, sale(5))).toMatchObject({
      kind: 'retryable',
      reason: 'http',
      status: 503,
    });
    expect(simulator.state.invoices.has(`${TIN}/00/5`)).toBe(false);
  });

  it('refusals are permanent with KRA’s code and message', async () => {
    simulator.setMode({ kind: 'refusing', resultCd: '910', detail: 'custTin is invalid' });
    expect(await client.saveSale(credentials, sale(6))).toEqual({
      kind: 'refused',
      resultCd: '910',
      resultMsg: 'Request parameter error: custTin is invalid',
    });
    simulator.setMode({ kind: 'normal' });
    const foreign = await client.saveSale({ ...credentials, cmcKey: 'x'.repeat(32) }, sale(6));
    expect(foreign).toMatchObject({ kind: 'refused', resultCd: '901' });
    // A credit note for an invoice KRA never received: refused by KRA's rules.
    const credit = sale(7, { rcptTyCd: 'R', orgInvcNo: 999, rfdRsnCd: '06', salesSttsCd: '05' });
    expect(await client.saveSale(credentials, credit)).toMatchObject({
      kind: 'refused',
      resultCd: '910',
    });
  });

  it('a PIN of SIMULATOR_PINS picks its fault (development: the business’s PIN)', async () => {
    const pin = 'P000000004R';
    const init = await client.initializeDevice({ tin: pin, bhfId: '00', dvcSrlNo: 'till-9' });
    if (init.kind !== 'success') throw new Error('initialisation failed');
    const own = { tin: pin, bhfId: '00', cmcKey: init.data.cmcKey };
    expect(await client.saveSale(own, sale(1, { tin: pin }))).toMatchObject({
      kind: 'refused',
      resultCd: '910',
    });
  });

  it('a request failing the spec is not sent (893); a retryable server code is retryable', async () => {
    const before = simulator.requests.length;
    const broken = await client.saveSale(credentials, sale(8, { salesDt: '2026-12-06' }));
    expect(broken).toMatchObject({ kind: 'refused', resultCd: '893' });
    expect(simulator.requests.length).toBe(before);
    simulator.setMode({ kind: 'refusing', resultCd: '999' });
    expect(await client.saveSale(credentials, sale(8))).toMatchObject({
      kind: 'retryable',
      reason: 'kra',
      resultCd: '999',
    });
  });

  it('credit notes, items and stock go through', async () => {
    const credit = sale(9, { rcptTyCd: 'R', orgInvcNo: 1, rfdRsnCd: '06', salesSttsCd: '05' });
    expect(await client.saveSale(credentials, credit)).toMatchObject({
      kind: 'success',
      data: { curRcptNo: 1 },
    });
    const item = {
      tin: TIN,
      bhfId: '00',
      itemCd: 'KE2NTU0000001',
      itemClsCd: '5059690800',
      itemTyCd: '2' as const,
      itemNm: 'Sugar 1kg',
      orgnNatCd: 'KE',
      pkgUnitCd: 'NT',
      qtyUnitCd: 'U',
      taxTyCd: 'B',
      dftPrc: 160,
      isrcAplcbYn: 'N' as const,
      useYn: 'Y' as const,
      regrId: 'owner',
      regrNm: 'Owner',
      modrId: 'owner',
      modrNm: 'Owner',
    };
    expect(await client.saveItem(credentials, item)).toMatchObject({ kind: 'success' });
    const io = {
      tin: TIN,
      bhfId: '00',
      sarNo: 1,
      orgSarNo: 0,
      regTyCd: 'A' as const,
      sarTyCd: '11' as const,
      ocrnDt: '20261206',
      totItemCnt: 1,
      totTaxblAmt: 320,
      totTaxAmt: 44.14,
      totAmt: 320,
      regrId: 'owner',
      regrNm: 'Owner',
      modrId: 'owner',
      modrNm: 'Owner',
      itemList: [
        {
          itemSeq: 1,
          itemCd: 'KE2NTU0000001',
          itemClsCd: '5059690800',
          itemNm: 'Sugar 1kg',
          pkgUnitCd: 'NT',
          pkg: 2,
          qtyUnitCd: 'U',
          qty: 2,
          prc: 160,
          splyAmt: 320,
          totDcAmt: 0,
          taxblAmt: 320,
          taxTyCd: 'B',
          taxAmt: 44.14,
          totAmt: 320,
        },
      ],
    };
    expect(await client.saveStockIo(credentials, io)).toMatchObject({ kind: 'success' });
    expect(await client.saveStockIo(credentials, io)).toMatchObject({ kind: 'duplicate' });
    const master = { tin: TIN, bhfId: '00', itemCd: 'KE2NTU0000001', rsdQty: 48 };
    const audit = { regrId: 'owner', regrNm: 'Owner', modrId: 'owner', modrNm: 'Owner' };
    expect(await client.saveStockMaster(credentials, { ...master, ...audit })).toMatchObject({
      kind: 'success',
    });
  });

  it('nobody listening → retryable network; a non-OSCU 200 → retryable unreadable', async () => {
    const garbage = http.createServer((_req, res) => res.end('<html>gateway</html>'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const { port } = garbage.address() as AddressInfo;
    try {
      const odd = new EtimsClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 });
      expect(await odd.saveSale(credentials, sale(10))).toMatchObject({
        kind: 'retryable',
        reason: 'unreadable',
      });
    } finally {
      await new Promise<void>((resolve) => garbage.close(() => resolve()));
    }
    const nobody = new EtimsClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    expect(await nobody.saveSale(credentials, sale(10))).toMatchObject({
      kind: 'retryable',
      reason: 'network',
    });
  });

  it('logs never carry the PIN or the communication key', () => {
    expect(logLines.length).toBeGreaterThan(5);
    const all = logLines.join('\n');
    expect(all).not.toContain(TIN);
    expect(all).not.toContain(credentials.cmcKey);
  });
});
