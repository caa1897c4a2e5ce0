import { DEFAULT_TAX_RATES, TAX_TYPE_CODES, type TaxRates, type TaxType } from './codes.js';

/** One invoice line as eTIMS sees it: its band and its VAT-inclusive total after discount. */
export interface BandLine {
  taxType: TaxType;
  /** Whole cents, VAT included (eTIMS `taxblAmt` = `totAmt` of the item). */
  amountCents: number;
}

export interface Band {
  rate: number;
  taxableCents: number;
  taxCents: number;
}

export interface BandTotals {
  bands: Record<TaxType, Band>;
  /** Tax of each line, in input order (the item list's `taxAmt`). */
  lineTaxCents: number[];
  totalTaxableCents: number;
  totalTaxCents: number;
  totalCents: number;
}

/**
 * The VAT contained in a VAT-inclusive amount, rounded half up to the cent: the spec's
 * sample has a B line of 7000 at 18 % carrying 1068 (7000 × 18 / 118 = 1067.8).
 */
export function includedTaxCents(amountCents: number, rate: number): number {
  if (rate === 0 || amountCents === 0) return 0;
  // Integer arithmetic up to the division; amounts stay far below 2^53 / 100.
  return Math.floor((amountCents * rate * 2 + (100 + rate)) / ((100 + rate) * 2));
}

/**
 * Splits an invoice into the five bands of `saveTrnsSalesOsdc`. A band's tax is the sum of
 * its lines' taxes, so the item list and the header always agree to the cent.
 */
export function computeBands(lines: BandLine[], rates: TaxRates = DEFAULT_TAX_RATES): BandTotals {
  const bands = Object.fromEntries(
    TAX_TYPE_CODES.map((type) => [type, { rate: rates[type], taxableCents: 0, taxCents: 0 }]),
  ) as Record<TaxType, Band>;
  const lineTaxCents: number[] = [];
  for (const line of lines) {
    if (!Number.isSafeInteger(line.amountCents) || line.amountCents < 0) {
      throw new RangeError('line amounts are non-negative whole cents');
    }
    const band = bands[line.taxType];
    const tax = includedTaxCents(line.amountCents, band.rate);
    band.taxableCents += line.amountCents;
    band.taxCents += tax;
    lineTaxCents.push(tax);
  }
  const totalTaxableCents = TAX_TYPE_CODES.reduce((sum, t) => sum + bands[t].taxableCents, 0);
  const totalTaxCents = TAX_TYPE_CODES.reduce((sum, t) => sum + bands[t].taxCents, 0);
  return {
    bands,
    lineTaxCents,
    totalTaxableCents,
    totalTaxCents,
    totalCents: totalTaxableCents,
  };
}

/** Cents as eTIMS numbers: NUMBER(18,2) shillings. */
export const toAmount = (cents: number): number => Math.round(cents) / 100;

/** The header fields `taxblAmtA`…`totAmt` of a sale or credit note. */
export function bandFields(totals: BandTotals) {
  const { A, B, C, D, E } = totals.bands;
  return {
    taxblAmtA: toAmount(A.taxableCents),
    taxblAmtB: toAmount(B.taxableCents),
    taxblAmtC: toAmount(C.taxableCents),
    taxblAmtD: toAmount(D.taxableCents),
    taxblAmtE: toAmount(E.taxableCents),
    taxRtA: A.rate,
    taxRtB: B.rate,
    taxRtC: C.rate,
    taxRtD: D.rate,
    taxRtE: E.rate,
    taxAmtA: toAmount(A.taxCents),
    taxAmtB: toAmount(B.taxCents),
    taxAmtC: toAmount(C.taxCents),
    taxAmtD: toAmount(D.taxCents),
    taxAmtE: toAmount(E.taxCents),
    totTaxblAmt: toAmount(totals.totalTaxableCents),
    totTaxAmt: toAmount(totals.totalTaxCents),
    totAmt: toAmount(totals.totalCents),
  };
}
