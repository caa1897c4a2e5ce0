import type { Sale } from '../sales/sales.schemas.js';

/**
 * What a printed receipt says, independent of how it is printed: the JSON format is this
 * document, the text and ESC/POS formats render it. Money stays in integer cents here;
 * the printed forms show shillings with two decimals.
 */
export interface ReceiptDocument {
  kind: 'sale' | 'return';
  /** The heading printed above the numbers ("RECEIPT", "CREDIT NOTE"). */
  title: string;
  business: { name: string; phone: string | null };
  location: { id: string | null; name: string; address: string | null; phone: string | null };
  /** The sale's (or return's) gap-free number. */
  number: number;
  /** The till's own receipt number, when it printed one. */
  receiptNumber: string | null;
  /** For a credit note: the number of the sale it returns. */
  originalSaleNumber: number | null;
  occurredAt: string;
  /** `occurredAt` on the shop's wall clock, `YYYY-MM-DD HH:MM`, in `timezone`. */
  localTime: string;
  timezone: string;
  cashier: { id: string; name: string };
  lines: ReceiptLine[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  /** VAT per rate: what the rate was charged on (VAT excluded) and the VAT itself. */
  vat: VatBand[];
  payments: { method: string; amount: number; reference: string | null }[];
  change: number;
  voided: boolean;
  etims: EtimsBlock | null;
}

export interface ReceiptLine {
  name: string;
  sku: string | null;
  quantity: number;
  unitPrice: number;
  /** The line's own discount (the sale discount is shown once, below the lines). */
  discount: number;
  total: number;
  /** Basis points: 1600 = 16 %. */
  taxRate: number;
}

export interface VatBand {
  rate: number;
  taxable: number;
  tax: number;
}

/** The KRA eTIMS signature of the invoice, printed with its QR code once KRA signed it. */
export interface EtimsBlock {
  receiptNumber: number | string;
  totalReceiptNumber: number | string;
  internalData: string;
  signature: string;
  sdcDateTime: string;
  qrUrl: string;
  sdcId?: string | null;
}

/** What a receipt needs beyond the sale itself: who sold it, where, and the line rates. */
export interface ReceiptContext {
  business: ReceiptDocument['business'];
  location: ReceiptDocument['location'];
  cashierName: string;
  timezone: string;
  /** Per sale line id: its tax rate and its share of the sale discount. */
  lineTerms: Map<string, { taxRate: number; saleDiscountShare: number }>;
}

/**
 * VAT per rate over lines whose `total` is VAT-inclusive and whose `tax` is the VAT it
 * contains: the bands add up to the total exactly (taxable + tax).
 */
export function vatBands(lines: { taxRate: number; total: number; tax: number }[]): VatBand[] {
  const byRate = new Map<number, VatBand>();
  for (const line of lines) {
    const band = byRate.get(line.taxRate) ?? { rate: line.taxRate, taxable: 0, tax: 0 };
    band.taxable += line.total - line.tax;
    band.tax += line.tax;
    byRate.set(line.taxRate, band);
  }
  return [...byRate.values()].sort((a, b) => b.rate - a.rate);
}

/** `2026-12-06 09:30` on the shop's clock. */
export function localTime(instant: string, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(instant));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((candidate) => candidate.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}

/** The receipt of a sale, from the Sale resource and its context. */
export function saleReceipt(
  sale: Sale & { etims?: EtimsBlock | { status: string } | null },
  context: ReceiptContext,
): ReceiptDocument {
  const lines = sale.lines.map((line) => {
    const terms = context.lineTerms.get(line.id) ?? { taxRate: 0, saleDiscountShare: 0 };
    return { line, terms };
  });
  return {
    kind: 'sale',
    title: sale.status === 'voided' ? 'RECEIPT (VOIDED)' : 'RECEIPT',
    business: context.business,
    location: context.location,
    number: sale.number,
    receiptNumber: sale.receiptNumber,
    originalSaleNumber: null,
    occurredAt: sale.occurredAt,
    localTime: localTime(sale.occurredAt, context.timezone),
    timezone: context.timezone,
    cashier: { id: sale.cashierId, name: context.cashierName },
    lines: lines.map(({ line, terms }) => ({
      name: line.name,
      sku: line.sku,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      discount: line.discount,
      total: line.total,
      taxRate: terms.taxRate,
    })),
    subtotal: sale.subtotal,
    discount: sale.discount,
    tax: sale.tax,
    total: sale.total,
    // A line's tax is contained in what was paid for it: its total less its share of the
    // sale discount (sales.rules.ts), so the bands add up to the sale's total.
    vat: vatBands(
      lines.map(({ line, terms }) => ({
        taxRate: terms.taxRate,
        total: line.total - terms.saleDiscountShare,
        tax: line.tax,
      })),
    ),
    payments: sale.payments.map((payment) => ({
      method: payment.method,
      amount: payment.amount,
      reference: payment.reference ?? null,
    })),
    change: sale.change,
    voided: sale.status === 'voided',
    etims: signedEtimsBlock(sale.etims),
  };
}

/** The eTIMS block to print: only a signed one (a pending invoice has nothing to show yet). */
export function signedEtimsBlock(
  etims: EtimsBlock | { status: string } | null | undefined,
): EtimsBlock | null {
  if (!etims || !('status' in etims) || etims.status !== 'signed') return null;
  const block = etims as unknown as EtimsBlock;
  return {
    receiptNumber: block.receiptNumber,
    totalReceiptNumber: block.totalReceiptNumber,
    internalData: block.internalData,
    signature: block.signature,
    sdcDateTime: block.sdcDateTime,
    qrUrl: block.qrUrl,
    sdcId: block.sdcId ?? null,
  };
}
