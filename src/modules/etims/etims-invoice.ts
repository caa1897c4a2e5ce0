import { bandFields, computeBands, toAmount } from '../../etims/bands.js';
import {
  CREDIT_NOTE_REASONS,
  PAYMENT_TYPES,
  QUANTITY_UNITS,
  RECEIPT_TYPES,
  SALES_STATUSES,
  SALES_TYPES,
  STOCK_IO_TYPES,
  REGISTRATION_TYPES,
  PRODUCT_TYPES,
  type TaxType,
} from '../../etims/codes.js';
import type { ItemSaveReq, StockIOSaveReq, TrnsSalesSaveWrReq } from '../../etims/wire.js';
import type { PaymentMethod } from '../../db/schema/index.js';

// Pure builders of the OSCU requests (wire.ts) from our rows: no I/O, so the arithmetic
// is tested against the simulator's own rules (simulator/sales-rules.ts).

/** When a product has no KRA item class code: the shop sets its own (PATCH /products/:id). */
export const DEFAULT_ITEM_CLASS_CODE = '99000000';
/** Who registers: OSCU CHAR(20) ids; our user ids are longer, so the service names itself. */
export const REGISTRAR_ID = 'backend-api';

export interface InvoiceLine {
  itemCode: string;
  itemClassCode: string;
  name: string;
  unit: string;
  quantity: number;
  /** Cents, VAT-inclusive, per unit as charged. */
  unitPrice: number;
  /** The line's own discount plus its share of the sale discount, in cents. */
  discount: number;
  taxType: TaxType;
}

export interface InvoiceInput {
  tin: string;
  bhfId: string;
  invoiceNumber: number;
  /** 0 for a sale; the credited sale's invoice number for a credit note. */
  originalInvoiceNumber: number;
  kind: 'sale' | 'credit_note';
  /** Our own reference (trdInvcNo): the sale number. */
  tradeInvoiceNumber: string;
  occurredAt: Date;
  confirmedAt: Date;
  paymentMethod: PaymentMethod | null;
  customerPhone: string | null;
  registrarName: string;
  lines: InvoiceLine[];
}

/** yyyyMMddhhmmss in East Africa Time (UTC+3, no daylight saving), as OSCU dates are. */
export function kraDateTime(at: Date): string {
  const eat = new Date(at.getTime() + 3 * 3_600_000);
  return eat.toISOString().replace(/[-T:]/g, '').slice(0, 14);
}

const PAYMENT_TYPE_OF: Record<PaymentMethod, (typeof PAYMENT_TYPES)[keyof typeof PAYMENT_TYPES]> = {
  cash: PAYMENT_TYPES.cash,
  mpesa: PAYMENT_TYPES.mobileMoney,
  card: PAYMENT_TYPES.card,
  other: PAYMENT_TYPES.other,
  // On the customer's account (the debt book).
  credit: PAYMENT_TYPES.credit,
};

/** §4.11: the method that paid most of a sale (a split sale has one pmtTyCd). */
export function paymentTypeOf(payments: { method: PaymentMethod; amount: number }[]) {
  const totals = new Map<PaymentMethod, number>();
  for (const payment of payments)
    totals.set(payment.method, (totals.get(payment.method) ?? 0) + payment.amount);
  let best: PaymentMethod | null = null;
  let most = -1;
  for (const [method, amount] of totals) {
    if (amount > most) {
      best = method;
      most = amount;
    }
  }
  return best;
}

const UNIT_CODES: Record<string, string> = {
  kg: QUANTITY_UNITS.kilogram,
  kgs: QUANTITY_UNITS.kilogram,
  kilogram: QUANTITY_UNITS.kilogram,
  g: QUANTITY_UNITS.gram,
  gram: QUANTITY_UNITS.gram,
  l: QUANTITY_UNITS.litre,
  litre: QUANTITY_UNITS.litre,
  liter: QUANTITY_UNITS.litre,
  m: QUANTITY_UNITS.metre,
  metre: QUANTITY_UNITS.metre,
  dozen: QUANTITY_UNITS.dozen,
  pair: QUANTITY_UNITS.pair,
  set: QUANTITY_UNITS.set,
  packet: QUANTITY_UNITS.packet,
  box: QUANTITY_UNITS.box,
  bag: QUANTITY_UNITS.bag,
};
/** §4.7 unit of quantity from our free-text unit; pieces otherwise. */
export const quantityUnitOf = (unit: string) =>
  UNIT_CODES[unit.trim().toLowerCase()] ?? QUANTITY_UNITS.piece;

/** KE (origin) 2 (finished product) NT (net) U (pieces) + a 7-digit sequence, as KRA's samples. */
export const itemCodeOf = (sequence: number) => `KE2NTU${String(sequence).padStart(7, '0')}`;

/**
 * One line as eTIMS takes it. OSCU quantities have 2 decimals (NUMBER(13,2)); a line of
 * 3 decimals (0.125 kg) is sent as 1 × its amount, so prc × qty stays exactly splyAmt.
 */
function wireLine(line: InvoiceLine) {
  const supplyCents = Math.round(line.quantity * line.unitPrice);
  const twoDecimals = Math.abs(Math.round(line.quantity * 100) - line.quantity * 100) < 1e-9;
  const qty = twoDecimals ? line.quantity : 1;
  const prcCents = twoDecimals ? line.unitPrice : supplyCents;
  const taxableCents = supplyCents - line.discount;
  return { line, qty, prcCents, supplyCents, taxableCents };
}

/** saveTrnsSalesOsdc for a sale (S) or a credit note (R) of the whole sale. */
export function buildSaleRequest(input: InvoiceInput): TrnsSalesSaveWrReq {
  const lines = input.lines.map(wireLine);
  const totals = computeBands(
    lines.map((l) => ({ taxType: l.line.taxType, amountCents: l.taxableCents })),
  );
  const confirmed = kraDateTime(input.confirmedAt);
  const isCredit = input.kind === 'credit_note';
  return {
    tin: input.tin,
    bhfId: input.bhfId,
    trdInvcNo: input.tradeInvoiceNumber,
    invcNo: input.invoiceNumber,
    orgInvcNo: input.originalInvoiceNumber,
    custTin: null,
    custNm: null,
    salesTyCd: SALES_TYPES.normal,
    rcptTyCd: isCredit ? RECEIPT_TYPES.creditNote : RECEIPT_TYPES.sale,
    pmtTyCd: input.paymentMethod ? PAYMENT_TYPE_OF[input.paymentMethod] : null,
    salesSttsCd: SALES_STATUSES.approved,
    cfmDt: confirmed,
    salesDt: kraDateTime(input.occurredAt).slice(0, 8),
    stockRlsDt: confirmed,
    cnclReqDt: null,
    cnclDt: null,
    rfdDt: isCredit ? confirmed : null,
    rfdRsnCd: isCredit ? CREDIT_NOTE_REASONS.refund : null,
    totItemCnt: lines.length,
    ...bandFields(totals),
    prchrAcptcYn: 'N',
    remark: null,
    regrId: REGISTRAR_ID,
    regrNm: input.registrarName.slice(0, 60) || REGISTRAR_ID,
    modrId: REGISTRAR_ID,
    modrNm: input.registrarName.slice(0, 60) || REGISTRAR_ID,
    receipt: {
      custTin: null,
      custMblNo: input.customerPhone?.slice(0, 20) ?? null,
      rcptPbctDt: confirmed,
      trdeNm: null,
      adrs: null,
      topMsg: null,
      btmMsg: null,
      prchrAcptcYn: 'N',
    },
    itemList: lines.map((l, index) => ({
      itemSeq: index + 1,
      itemClsCd: l.line.itemClassCode,
      itemCd: l.line.itemCode,
      itemNm: l.line.name.slice(0, 200),
      bcd: null,
      pkgUnitCd: 'NT',
      pkg: l.qty,
      qtyUnitCd: quantityUnitOf(l.line.unit),
      qty: l.qty,
      prc: toAmount(l.prcCents),
      splyAmt: toAmount(l.supplyCents),
      dcRt: l.supplyCents === 0 ? 0 : Math.round((l.line.discount / l.supplyCents) * 10_000) / 100,
      dcAmt: toAmount(l.line.discount),
      isrccCd: null,
      isrccNm: null,
      isrcRt: null,
      isrcAmt: null,
      taxTyCd: l.line.taxType,
      taxblAmt: toAmount(l.taxableCents),
      taxAmt: toAmount(totals.lineTaxCents[index] ?? 0),
      totAmt: toAmount(l.taxableCents),
    })),
  };
}

/**
 * insertStockIO for a signed document: a sale is stock out (11), a credit note stock back in
 * (03). `sarNo` is the document's invoice number: one stock record per invoice, so a
 * resend is KRA's 994 too.
 */
export function buildStockIoRequest(sale: TrnsSalesSaveWrReq): StockIOSaveReq {
  const isCredit = sale.rcptTyCd === RECEIPT_TYPES.creditNote;
  return {
    tin: sale.tin,
    bhfId: sale.bhfId,
    sarNo: sale.invcNo,
    orgSarNo: isCredit ? sale.orgInvcNo : 0,
    regTyCd: REGISTRATION_TYPES.automatic,
    custTin: null,
    custNm: null,
    custBhfId: null,
    sarTyCd: isCredit ? STOCK_IO_TYPES.incomingReturn : STOCK_IO_TYPES.outgoingSale,
    ocrnDt: sale.salesDt,
    totItemCnt: sale.itemList.length,
    totTaxblAmt: sale.totTaxblAmt,
    totTaxAmt: sale.totTaxAmt,
    totAmt: sale.totAmt,
    remark: null,
    regrId: sale.regrId,
    regrNm: sale.regrNm,
    modrId: sale.modrId,
    modrNm: sale.modrNm,
    itemList: sale.itemList.map((item) => ({
      itemSeq: item.itemSeq,
      itemCd: item.itemCd,
      itemClsCd: item.itemClsCd,
      itemNm: item.itemNm,
      bcd: null,
      pkgUnitCd: item.pkgUnitCd,
      pkg: item.pkg,
      qtyUnitCd: item.qtyUnitCd,
      qty: item.qty,
      itemExprDt: null,
      prc: item.prc,
      splyAmt: item.splyAmt,
      totDcAmt: item.dcAmt,
      taxblAmt: item.taxblAmt,
      taxTyCd: item.taxTyCd,
      taxAmt: item.taxAmt,
      totAmt: item.totAmt,
    })),
  };
}

export interface ItemInput {
  tin: string;
  bhfId: string;
  itemCode: string;
  itemClassCode: string;
  name: string;
  unit: string;
  taxType: TaxType;
  /** Cents. */
  price: number;
  barcode: string | null;
  trackStock: boolean;
  archived: boolean;
}

/** saveItem: the product as an eTIMS item (a product not tracked in stock is a service). */
export function buildItemRequest(item: ItemInput): ItemSaveReq {
  return {
    tin: item.tin,
    bhfId: item.bhfId,
    itemCd: item.itemCode,
    itemClsCd: item.itemClassCode,
    itemTyCd: item.trackStock ? PRODUCT_TYPES.finishedProduct : PRODUCT_TYPES.service,
    itemNm: item.name.slice(0, 200),
    itemStdNm: null,
    orgnNatCd: 'KE',
    pkgUnitCd: 'NT',
    qtyUnitCd: quantityUnitOf(item.unit),
    taxTyCd: item.taxType,
    btchNo: null,
    bcd: item.barcode?.slice(0, 20) ?? null,
    dftPrc: toAmount(item.price),
    addInfo: null,
    sftyQty: null,
    isrcAplcbYn: 'N',
    useYn: item.archived ? 'N' : 'Y',
    regrId: REGISTRAR_ID,
    regrNm: REGISTRAR_ID,
    modrId: REGISTRAR_ID,
    modrNm: REGISTRAR_ID,
  };
}

/** KRA's receipt check link for the QR code (pos-anchors §3): PIN + branch + signature. */
export function receiptQrUrl(
  environment: 'sandbox' | 'production',
  tin: string,
  bhfId: string,
  signature: string,
): string {
  const host =
    environment === 'production' ? 'https://etims.kra.go.ke' : 'https://etims-sbx.kra.go.ke';
  return `${host}/common/link/etims/receipt/indexEtimsReceiptData?Data=${tin}${bhfId}${signature}`;
}
