import { z } from '../lib/zod.js';
import {
  CREDIT_NOTE_REASONS,
  PAYMENT_TYPES,
  RECEIPT_TYPES,
  REGISTRATION_TYPES,
  SALES_STATUSES,
  SALES_TYPES,
  STOCK_IO_TYPES,
  TAX_TYPE_CODES,
} from './codes.js';

// The OSCU Specification v2.0 objects (§3.3) as Zod schemas: lengths, required flags and
// formats as the spec's tables give them. The simulator validates requests with these; the
// client checks what it is about to send with them, so a bug of ours is not a KRA refusal.

const char = (max: number) => z.string().max(max);
/** An optional CHAR: the spec's samples send null for absent values. */
const optChar = (max: number) => char(max).nullish();
const values = <T extends Record<string, string>>(table: T) =>
  z.enum(Object.values(table) as [T[keyof T], ...T[keyof T][]]);

/** NUMBER(p,s): at most `s` decimals and `p - s` integer digits. */
const number = (precision: number, scale = 0) =>
  z
    .number()
    .refine((value) => Number.isFinite(value), 'must be a finite number')
    .refine(
      (value) => Math.abs(value) < 10 ** (precision - scale),
      `at most ${precision - scale} integer digits`,
    )
    .refine(
      (value) => Math.abs(Math.round(value * 10 ** scale) - value * 10 ** scale) < 1e-6,
      `at most ${scale} decimals`,
    );
const amount = number(18, 2);
const rate = number(7, 2);
const quantity = number(13, 2);
/** yyyyMMddhhmmss */
const dateTime = z.string().regex(/^\d{14}$/, 'yyyyMMddhhmmss');
/** yyyyMMdd */
const date = z.string().regex(/^\d{8}$/, 'yyyyMMdd');
const optDateTime = dateTime.nullish().or(z.literal(''));
const pin = char(11).min(1);
const branchId = z.string().regex(/^\d{2}$/, 'two digits: 00 is the head office');
const yesNo = z.enum(['Y', 'N']);
const taxType = z.enum(TAX_TYPE_CODES as [string, ...string[]]);
/** Registration/modifier ids and names, required on every save. */
const audit = {
  regrId: char(20).min(1),
  regrNm: char(60).min(1),
  modrId: char(20).min(1),
  modrNm: char(60).min(1),
};

/** Every answer: `resultCd` (see RESULT_CODES), `resultMsg`, `resultDt`, and `data`. */
export const OscuResponse = z.object({
  resultCd: z.string().regex(/^\d{3}$/),
  resultMsg: z.string().nullish(),
  resultDt: z.string().nullish(),
  data: z.unknown().optional(),
});
export type OscuResponse = z.infer<typeof OscuResponse>;

// 3.3.1 Device initialisation: POST /selectInitOsdcInfo
export const DeviceVerificationReq = z.object({
  tin: pin,
  bhfId: branchId,
  dvcSrlNo: char(100).min(1),
});
export type DeviceVerificationReq = z.infer<typeof DeviceVerificationReq>;

export const DeviceInfo = z.object({
  tin: char(11),
  taxprNm: char(60).nullish(),
  bsnsActv: char(100).nullish(),
  bhfId: char(2),
  bhfNm: char(60).nullish(),
  bhfOpenDt: char(8).nullish(),
  prvncNm: char(100).nullish(),
  dstrtNm: char(100).nullish(),
  sctrNm: char(100).nullish(),
  locDesc: char(100).nullish(),
  hqYn: char(1).nullish(),
  mgrNm: char(60).nullish(),
  mgrTelNo: char(20).nullish(),
  mgrEmail: char(50).nullish(),
  dvcId: char(20).nullish(),
  // The spec's table spells it `sdicId`, its sample and the field in use `sdcId`.
  sdcId: char(20).nullish(),
  mrcNo: char(11).nullish(),
  cmcKey: char(255).min(1),
});
export type DeviceInfo = z.infer<typeof DeviceInfo>;
export const DeviceVerificationData = z.object({ info: DeviceInfo });

// 3.3.3.2 Item registration: POST /saveItem
export const ItemSaveReq = z.object({
  tin: pin,
  bhfId: branchId,
  itemCd: char(20).min(1),
  itemClsCd: char(10).min(1),
  itemTyCd: z.enum(['1', '2', '3']),
  itemNm: char(200).min(1),
  itemStdNm: optChar(200),
  orgnNatCd: char(5).min(2),
  pkgUnitCd: char(5).min(1),
  qtyUnitCd: char(5).min(1),
  taxTyCd: taxType,
  btchNo: optChar(10),
  bcd: optChar(20),
  dftPrc: amount,
  grpPrcL1: amount.nullish(),
  grpPrcL2: amount.nullish(),
  grpPrcL3: amount.nullish(),
  grpPrcL4: amount.nullish(),
  grpPrcL5: amount.nullish(),
  addInfo: optChar(7),
  sftyQty: quantity.nullish(),
  isrcAplcbYn: yesNo,
  useYn: yesNo,
  ...audit,
});
export type ItemSaveReq = z.infer<typeof ItemSaveReq>;

// 3.3.6.1 Sales and credit notes: POST /saveTrnsSalesOsdc
export const TrnsSalesSaveWrReceipt = z.object({
  custTin: optChar(11),
  custMblNo: optChar(20),
  rcptPbctDt: dateTime,
  trdeNm: optChar(20),
  adrs: optChar(200),
  topMsg: optChar(20),
  btmMsg: optChar(20),
  prchrAcptcYn: yesNo,
});

export const TrnsSalesSaveWrItem = z.object({
  itemSeq: z.number().int().min(1).max(999),
  itemClsCd: char(10).min(1),
  // §4.19: "itemCd is mandatory and it has to be unique".
  itemCd: char(20).min(1),
  itemNm: char(200).min(1),
  bcd: optChar(20),
  pkgUnitCd: char(5).min(1),
  pkg: quantity,
  qtyUnitCd: char(5).min(1),
  qty: quantity,
  prc: amount,
  splyAmt: amount,
  dcRt: number(5, 2),
  dcAmt: amount,
  isrccCd: optChar(10),
  isrccNm: optChar(100),
  isrcRt: number(3).nullish(),
  isrcAmt: amount.nullish(),
  taxTyCd: taxType,
  taxblAmt: amount,
  taxAmt: amount,
  totAmt: amount,
});
export type TrnsSalesSaveWrItem = z.infer<typeof TrnsSalesSaveWrItem>;

export const TrnsSalesSaveWrReq = z.object({
  tin: pin,
  bhfId: branchId,
  // CHAR(50); the spec's own sample sends it as a number.
  trdInvcNo: z.union([char(50).min(1), z.number().int().nonnegative()]),
  invcNo: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  orgInvcNo: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  custTin: optChar(11),
  custNm: optChar(60),
  salesTyCd: values(SALES_TYPES),
  rcptTyCd: values(RECEIPT_TYPES),
  pmtTyCd: values(PAYMENT_TYPES).nullish(),
  salesSttsCd: values(SALES_STATUSES),
  cfmDt: dateTime,
  salesDt: date,
  stockRlsDt: optDateTime,
  cnclReqDt: optDateTime,
  cnclDt: optDateTime,
  rfdDt: optDateTime,
  rfdRsnCd: values(CREDIT_NOTE_REASONS).nullish(),
  totItemCnt: z.number().int().min(1).max(9_999_999_999),
  taxblAmtA: amount,
  taxblAmtB: amount,
  taxblAmtC: amount,
  taxblAmtD: amount,
  taxblAmtE: amount,
  taxRtA: rate,
  taxRtB: rate,
  taxRtC: rate,
  taxRtD: rate,
  taxRtE: rate,
  taxAmtA: amount,
  taxAmtB: amount,
  taxAmtC: amount,
  taxAmtD: amount,
  taxAmtE: amount,
  totTaxblAmt: amount,
  totTaxAmt: amount,
  totAmt: amount,
  prchrAcptcYn: yesNo,
  remark: optChar(400),
  ...audit,
  receipt: TrnsSalesSaveWrReceipt,
  itemList: z.array(TrnsSalesSaveWrItem).min(1).max(999),
});
export type TrnsSalesSaveWrReq = z.infer<typeof TrnsSalesSaveWrReq>;

/** KRA's signature of an invoice: what the receipt prints. NUMBERs may arrive as text. */
export const TrnsSalesSaveWrResData = z.object({
  curRcptNo: z.coerce.number().int().nonnegative(),
  totRcptNo: z.coerce.number().int().nonnegative(),
  intrlData: char(26).min(1),
  rcptSign: char(16).min(1),
  sdcDateTime: dateTime,
});
export type TrnsSalesSaveWrResData = z.infer<typeof TrnsSalesSaveWrResData>;

/**
 * The spec's sample answer writes `"curRcptNo "` with a trailing space: keys are trimmed
 * before parsing so either spelling is read.
 */
export function parseSaleSignature(data: unknown) {
  const trimmed =
    data !== null && typeof data === 'object'
      ? Object.fromEntries(Object.entries(data).map(([key, value]) => [key.trim(), value]))
      : data;
  return TrnsSalesSaveWrResData.safeParse(trimmed);
}

// 3.3.8.2 Stock in/out: POST /insertStockIO
export const StockIoItem = z.object({
  itemSeq: z.number().int().min(1).max(999),
  itemCd: char(20).min(1),
  itemClsCd: char(10).min(1),
  itemNm: char(200).min(1),
  bcd: optChar(20),
  pkgUnitCd: char(5).min(1),
  pkg: quantity,
  qtyUnitCd: char(5).min(1),
  qty: quantity,
  itemExprDt: date.nullish().or(z.literal('')),
  prc: number(15, 2),
  splyAmt: amount,
  totDcAmt: amount,
  taxblAmt: amount,
  taxTyCd: taxType,
  taxAmt: amount,
  totAmt: amount,
});

export const StockIOSaveReq = z.object({
  tin: pin,
  bhfId: branchId,
  sarNo: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  orgSarNo: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  regTyCd: values(REGISTRATION_TYPES),
  custTin: optChar(11),
  custNm: optChar(100),
  custBhfId: optChar(2),
  sarTyCd: values(STOCK_IO_TYPES),
  ocrnDt: date,
  totItemCnt: z.number().int().min(1).max(9_999_999_999),
  totTaxblAmt: amount,
  totTaxAmt: amount,
  totAmt: amount,
  remark: optChar(400),
  ...audit,
  itemList: z.array(StockIoItem).min(1).max(999),
});
export type StockIOSaveReq = z.infer<typeof StockIOSaveReq>;

// 3.3.8.3 Stock master (remaining quantity of an item): POST /saveStockMaster
export const StockMasterSaveReq = z.object({
  tin: pin,
  bhfId: branchId,
  itemCd: char(20).min(1),
  rsdQty: quantity,
  ...audit,
});
export type StockMasterSaveReq = z.infer<typeof StockMasterSaveReq>;
