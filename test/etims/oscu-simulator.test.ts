import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSaleSignature } from '../../src/etims/wire.js';
import { startOscuSimulator } from '../../src/etims/simulator/simulator.js';
import * as samples from './spec-samples.js';

// The simulator against the specification's own JSON samples, over HTTP.
const simulator = await startOscuSimulator({
  taxRates: samples.SAMPLE_RATES,
  now: () => new Date('2026-12-06T09:30:00Z'),
});
afterAll(() => simulator.close());

interface Answer {
  resultCd: string;
  resultMsg: string;
  resultDt: string;
  data: Record<string, unknown> | null;
}

async function post(
  name: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; answer: Answer }> {
  const response = await request(`${simulator.baseUrl}/${name}`, {
    method: method as 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, answer: JSON.parse(text) as Answer };
}

const init = await post('selectInitOsdcInfo', samples.deviceVerificationReq);
const cmcKey = (init.answer.data?.info as { cmcKey: string }).cmcKey;
const auth = { tin: 'A123456789Z', bhfId: '00', cmcKey };

describe('OSCU simulator: the specification’s samples', () => {
  it('selectInitOsdcInfo answers the sample’s shape, once per branch (902 after)', async () => {
    expect(init.status).toBe(200);
    expect(init.answer).toMatchObject({ resultCd: '000', resultMsg: 'It is succeeded' });
    expect(init.answer.resultDt).toBe('20261206123000'); // East Africa Time
    expect(init.answer.data?.info).toMatchObject({
      tin: 'A123456789Z',
      bhfId: '00',
      hqYn: 'Y',
      sdcId: expect.stringMatching(/^KRACU\d{9}$/),
      cmcKey: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const again = await post('selectInitOsdcInfo', samples.deviceVerificationReq);
    expect(again.answer).toMatchObject({ resultCd: '902', data: null });
  });

  it('saveItem takes the sample', async () => {
    const { answer } = await post('saveItem', samples.itemSaveReq, auth);
    expect(answer).toMatchObject({ resultCd: '000', data: null });
  });

  it('saveTrnsSalesOsdc takes the sample, signs it, and answers 994 to a repeat', async () => {
    const first = await post('saveTrnsSalesOsdc', samples.trnsSalesSaveWrReq, auth);
    expect(first.answer.resultCd).toBe('000');
    const signature = parseSaleSignature(first.answer.data);
    expect(signature.success).toBe(true);
    expect(first.answer.data).toMatchObject({
      curRcptNo: 1,
      totRcptNo: 1,
      intrlData: expect.stringMatching(/^[A-Z2-7]{26}$/),
      rcptSign: expect.stringMatching(/^[A-Z2-7]{16}$/),
      sdcDateTime: '20261206123000',
    });
    const repeat = await post('saveTrnsSalesOsdc', samples.trnsSalesSaveWrReq, auth);
    expect(repeat.answer).toMatchObject({
      resultCd: '994',
      resultMsg: 'There is an overlapped Data',
      data: null,
    });
    expect(simulator.transmissions('A123456789Z', '00', 1)).toBe(2);
    expect(simulator.state.invoices.size).toBe(1);
  });

  it('the spec’s own sale answer parses as a signature (its "curRcptNo " key included)', () => {
    const parsed = parseSaleSignature(samples.trnsSalesSaveWrRes.data);
    expect(parsed.success && parsed.data).toEqual({
      curRcptNo: 1,
      totRcptNo: 1,
      intrlData: 'EAHSAV6ECUUXSY6PCCJYAUP6MI',
      rcptSign: 'QUII27MATATSHFRB',
      sdcDateTime: '20210502115145',
    });
  });

  it('a credit note names its sale and reason; receipt counters run per type and in total', async () => {
    const credit = {
      ...samples.trnsSalesSaveWrReq,
      invcNo: 2,
      orgInvcNo: 1,
      rcptTyCd: 'R',
      salesSttsCd: '05',
      rfdDt: '20200128100000',
      rfdRsnCd: '06',
    };
    expect(
      (await post('saveTrnsSalesOsdc', { ...credit, rfdRsnCd: null }, auth)).answer,
    ).toMatchObject({ resultCd: '910', resultMsg: expect.stringContaining('rfdRsnCd') });
    const unknown = await post('saveTrnsSalesOsdc', { ...credit, orgInvcNo: 77 }, auth);
    expect(unknown.answer).toMatchObject({ resultCd: '910' });
    const { answer } = await post('saveTrnsSalesOsdc', credit, auth);
    expect(answer).toMatchObject({ resultCd: '000', data: { curRcptNo: 1, totRcptNo: 2 } });
  });

  it('insertStockIO takes the sample once (994 after); saveStockMaster needs its stock in/out first', async () => {
    expect((await post('saveStockMaster', samples.stockMasterSaveReq, auth)).answer.resultCd).toBe(
      '910',
    );
    expect((await post('insertStockIO', samples.stockIoSaveReq, auth)).answer.resultCd).toBe('000');
    expect((await post('insertStockIO', samples.stockIoSaveReq, auth)).answer.resultCd).toBe('994');
    expect((await post('saveStockMaster', samples.stockMasterSaveReq, auth)).answer.resultCd).toBe(
      '000',
    );
    expect(simulator.state.stockMaster.get('A123456789Z/00/KE1NTXU0000002')).toBe(10);
  });
});

describe('OSCU simulator: refusals', () => {
  const sale = (changes: Record<string, unknown>) => ({
    ...samples.trnsSalesSaveWrReq,
    invcNo: 50,
    ...changes,
  });

  it('headers: none → 900, an unknown key → 901, a body for another branch → 910', async () => {
    expect((await post('saveTrnsSalesOsdc', sale({}))).answer.resultCd).toBe('900');
    const wrongKey = { ...auth, cmcKey: 'f'.repeat(32) };
    expect((await post('saveTrnsSalesOsdc', sale({}), wrongKey)).answer.resultCd).toBe('901');
    expect((await post('saveTrnsSalesOsdc', sale({ bhfId: '01' }), auth)).answer.resultCd).toBe(
      '910',
    );
  });

  it('field rules: missing, too long, wrong code, wrong format → 910 naming the field', async () => {
    const { salesDt: _omitted, ...withoutDate } = sale({});
    const cases: [unknown, string][] = [
      [withoutDate, 'salesDt'],
      [sale({ custNm: 'x'.repeat(61) }), 'custNm'],
      [sale({ pmtTyCd: '09' }), 'pmtTyCd'],
      [sale({ cfmDt: '2020-01-27' }), 'cfmDt'],
      [sale({ invcNo: 1.5 }), 'invcNo'],
      [sale({ totAmt: 10500.001 }), 'totAmt'],
      [sale({ itemList: [] }), 'itemList'],
    ];
    for (const [body, field] of cases) {
      const { answer } = await post('saveTrnsSalesOsdc', body, auth);
      expect(answer.resultCd, field).toBe('910');
      expect(answer.resultMsg, field).toContain(field);
    }
    expect(simulator.state.invoices.has('A123456789Z/00/50')).toBe(false);
  });

  it('arithmetic: bands that do not add up, a wrong rate, a wrong item tax → 910', async () => {
    const bad = [
      sale({ taxblAmtB: 10000 }),
      sale({ taxAmtB: 1500 }),
      sale({ taxRtB: 16 }),
      sale({ totAmt: 10400 }),
      sale({ totItemCnt: 3 }),
      sale({
        itemList: samples.trnsSalesSaveWrReq.itemList.map((item) => ({ ...item, taxAmt: 0 })),
        taxAmtB: 0,
        totTaxAmt: 0,
      }),
    ];
    for (const body of bad) {
      expect((await post('saveTrnsSalesOsdc', body, auth)).answer.resultCd).toBe('910');
    }
  });

  it('no body → 911, not POST → 912, bad JSON → 910, unknown function → 404', async () => {
    expect((await post('saveTrnsSalesOsdc', undefined, auth)).answer.resultCd).toBe('911');
    expect((await post('saveItem', undefined, auth, 'GET')).answer.resultCd).toBe('912');
    expect((await post('saveItem', '{"tin":', auth)).answer.resultCd).toBe('910');
    const response = await request(`${simulator.baseUrl}/dropTables`, { method: 'POST' });
    await response.body.text();
    expect(response.statusCode).toBe(404);
  });
});

describe('OSCU simulator: signatures are deterministic', () => {
  it('the same invoices in the same order get the same signatures; another invoice another', async () => {
    const run = async () => {
      const sim = await startOscuSimulator({ taxRates: samples.SAMPLE_RATES });
      try {
        const answer = async (name: string, body: unknown, headers = {}) => {
          const response = await request(`${sim.baseUrl}/${name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify(body),
          });
          return (await response.body.json()) as Answer;
        };
        const device = await answer('selectInitOsdcInfo', samples.deviceVerificationReq);
        const key = (device.data?.info as { cmcKey: string }).cmcKey;
        const headers = { tin: 'A123456789Z', bhfId: '00', cmcKey: key };
        const one = await answer('saveTrnsSalesOsdc', samples.trnsSalesSaveWrReq, headers);
        const two = await answer(
          'saveTrnsSalesOsdc',
          { ...samples.trnsSalesSaveWrReq, invcNo: 2 },
          headers,
        );
        return [key, one.data?.rcptSign, one.data?.intrlData, two.data?.rcptSign];
      } finally {
        await sim.close();
      }
    };
    const [a, b] = [await run(), await run()];
    expect(a).toEqual(b);
    expect(a[1]).not.toBe(a[3]);
  });
});
