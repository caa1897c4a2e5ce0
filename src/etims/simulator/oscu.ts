import type { z } from 'zod';
import {
  OVERLAPPED_DATA,
  RESULT_CODES,
  SUCCESS,
  type ResultCode,
  type TaxRates,
} from '../codes.js';
import {
  DeviceVerificationReq,
  ItemSaveReq,
  StockIOSaveReq,
  StockMasterSaveReq,
  TrnsSalesSaveWrReq,
  type DeviceInfo,
  type TrnsSalesSaveWrResData,
} from '../wire.js';
import { saleArithmeticProblem } from './sales-rules.js';
import { communicationKey, internalData, kraDateTime, receiptSignature } from './signatures.js';

export interface OscuAnswer {
  resultCd: string;
  resultMsg: string;
  resultDt: string;
  data: unknown;
}

export interface StoredInvoice {
  request: TrnsSalesSaveWrReq;
  signature: TrnsSalesSaveWrResData;
}

/** Who is calling: the `tin`, `bhfId` and `cmcKey` request headers. */
export interface Caller {
  tin: string;
  bhfId: string;
  cmcKey: string;
}

const branchKey = (tin: string, bhfId: string) => `${tin}/${bhfId}`;
export const invoiceKey = (tin: string, bhfId: string, invcNo: number) =>
  `${tin}/${bhfId}/${invcNo}`;

/**
 * The OSCU server's memory and rules, without HTTP: devices initialised per branch, items,
 * invoices per (tin, bhfId, invcNo) with their receipt counters, stock in/out and master.
 */
export class OscuState {
  readonly devices = new Map<string, DeviceInfo & { dvcSrlNo: string }>();
  readonly items = new Map<string, z.infer<typeof ItemSaveReq>>();
  readonly invoices = new Map<string, StoredInvoice>();
  readonly stockIo = new Map<string, z.infer<typeof StockIOSaveReq>>();
  readonly stockMaster = new Map<string, number>();
  private readonly counters = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly rates: TaxRates,
    private readonly now: () => Date,
  ) {}

  answer(resultCd: ResultCode, data: unknown = null, detail?: string): OscuAnswer {
    return {
      resultCd,
      resultMsg: detail ? `${RESULT_CODES[resultCd]}: ${detail}` : RESULT_CODES[resultCd],
      resultDt: kraDateTime(this.now()),
      data,
    };
  }

  /** 900 without the headers, 901 when they name no initialised device. */
  authenticate(caller: Partial<Caller>): OscuAnswer | undefined {
    if (!caller.tin || !caller.bhfId || !caller.cmcKey) return this.answer('900');
    const device = this.devices.get(branchKey(caller.tin, caller.bhfId));
    if (device?.cmcKey !== caller.cmcKey) return this.answer('901');
    return undefined;
  }

  initialize(body: unknown): OscuAnswer {
    const parsed = this.parse(DeviceVerificationReq, body);
    if ('resultCd' in parsed) return parsed;
    const { tin, bhfId, dvcSrlNo } = parsed;
    const key = branchKey(tin, bhfId);
    if (this.devices.has(key)) return this.answer('902');
    const serial = String(this.devices.size + 1).padStart(7, '0');
    const device = {
      dvcSrlNo,
      tin,
      taxprNm: `Taxpayer ${tin}`,
      bsnsActv: 'business',
      bhfId,
      bhfNm: bhfId === '00' ? 'Headquarter' : `Branch ${bhfId}`,
      bhfOpenDt: kraDateTime(this.now()).slice(0, 8),
      prvncNm: 'NAIROBI CITY',
      dstrtNm: 'WESTLANDS',
      sctrNm: 'WON',
      locDesc: 'Westlands Towers',
      hqYn: bhfId === '00' ? 'Y' : 'N',
      mgrNm: 'Manager',
      mgrTelNo: '0700000000',
      mgrEmail: 'manager@example.com',
      dvcId: `99999${serial}0001`,
      sdcId: `KRACU01${serial}`,
      mrcNo: `WIS0${serial}`,
      cmcKey: communicationKey(this.secret, [tin, bhfId, dvcSrlNo]),
    };
    this.devices.set(key, device);
    const { dvcSrlNo: _serial, ...info } = device;
    return this.answer(SUCCESS, { info });
  }

  saveItem(caller: Caller, body: unknown): OscuAnswer {
    const item = this.parseFor(caller, ItemSaveReq, body);
    if ('resultCd' in item) return item;
    // A repeated itemCd updates the item (the spec's "Save Item" stores it).
    this.items.set(`${branchKey(item.tin, item.bhfId)}/${item.itemCd}`, item);
    return this.answer(SUCCESS);
  }

  saveSale(caller: Caller, body: unknown): OscuAnswer {
    const sale = this.parseFor(caller, TrnsSalesSaveWrReq, body);
    if ('resultCd' in sale) return sale;
    const problem = saleArithmeticProblem(sale, this.rates) ?? this.creditNoteProblem(sale);
    if (problem) return this.answer('910', null, problem);
    const key = invoiceKey(sale.tin, sale.bhfId, sale.invcNo);
    if (this.invoices.has(key)) return this.answer(OVERLAPPED_DATA);
    const branch = branchKey(sale.tin, sale.bhfId);
    const curRcptNo = this.next(`${branch}/${sale.rcptTyCd}`);
    const totRcptNo = this.next(branch);
    const device = this.devices.get(branch);
    const facts = [sale.tin, sale.bhfId, device?.sdcId ?? '', sale.invcNo, sale.rcptTyCd];
    const figures = [...facts, sale.totAmt.toFixed(2), sale.totTaxAmt.toFixed(2), curRcptNo];
    const signature: TrnsSalesSaveWrResData = {
      curRcptNo,
      totRcptNo,
      intrlData: internalData(this.secret, figures),
      rcptSign: receiptSignature(this.secret, figures),
      sdcDateTime: kraDateTime(this.now()),
    };
    this.invoices.set(key, { request: sale, signature });
    return this.answer(SUCCESS, signature);
  }

  saveStockIo(caller: Caller, body: unknown): OscuAnswer {
    const io = this.parseFor(caller, StockIOSaveReq, body);
    if ('resultCd' in io) return io;
    const key = `${branchKey(io.tin, io.bhfId)}/${io.sarNo}`;
    if (this.stockIo.has(key)) return this.answer(OVERLAPPED_DATA);
    if (io.totItemCnt !== io.itemList.length) {
      return this.answer('910', null, 'totItemCnt differs from itemList');
    }
    this.stockIo.set(key, io);
    return this.answer(SUCCESS);
  }

  saveStockMaster(caller: Caller, body: unknown): OscuAnswer {
    const master = this.parseFor(caller, StockMasterSaveReq, body);
    if ('resultCd' in master) return master;
    const branch = branchKey(master.tin, master.bhfId);
    // §3.1: "Every stock inventory information must have its stock in/out information sent
    // in advance".
    const moved = [...this.stockIo.entries()].some(
      ([key, io]) =>
        key.startsWith(`${branch}/`) && io.itemList.some((item) => item.itemCd === master.itemCd),
    );
    if (!moved) return this.answer('910', null, 'send the stock in/out of this item first');
    this.stockMaster.set(`${branch}/${master.itemCd}`, master.rsdQty);
    return this.answer(SUCCESS);
  }

  /** A credit note names the sale it credits, of the same branch, and why. */
  private creditNoteProblem(sale: TrnsSalesSaveWrReq): string | null {
    if (sale.rcptTyCd === 'S') return sale.orgInvcNo === 0 ? null : 'a sale has orgInvcNo 0';
    if (!sale.rfdRsnCd) return 'a credit note needs rfdRsnCd';
    const original = this.invoices.get(invoiceKey(sale.tin, sale.bhfId, sale.orgInvcNo));
    if (original?.request.rcptTyCd !== 'S') return 'orgInvcNo names no sale of this branch';
    return null;
  }

  private next(counter: string): number {
    const value = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, value);
    return value;
  }

  private parse<T>(schema: z.ZodType<T>, body: unknown): T | OscuAnswer {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    return this.answer(
      '910',
      null,
      `${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }

  /** The body's tin and bhfId must be the caller's (the headers). */
  private parseFor<T extends { tin: string; bhfId: string }>(
    caller: Caller,
    schema: z.ZodType<T>,
    body: unknown,
  ): T | OscuAnswer {
    const parsed = this.parse(schema, body);
    if ('resultCd' in parsed) return parsed;
    if (parsed.tin !== caller.tin || parsed.bhfId !== caller.bhfId) {
      return this.answer('910', null, 'tin and bhfId differ from the headers');
    }
    return parsed;
  }
}
