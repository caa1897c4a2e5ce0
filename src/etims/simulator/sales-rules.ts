import { TAX_TYPE_CODES, type TaxRates, type TaxType } from '../codes.js';
import type { TrnsSalesSaveWrReq } from '../wire.js';

const cents = (amount: number) => Math.round(amount * 100);

/**
 * The arithmetic a sale must satisfy: item amounts, the band sums of the header and the tax
 * of each band at the rates of the tax-type code list. Returns the first problem, or null.
 * Item taxes may be rounded to the shilling: the spec's own sample carries 1068 for
 * 7000 at 18 % (1067.80).
 */
export function saleArithmeticProblem(sale: TrnsSalesSaveWrReq, rates: TaxRates): string | null {
  if (sale.totItemCnt !== sale.itemList.length) return 'totItemCnt differs from itemList';
  const seqs = new Set(sale.itemList.map((item) => item.itemSeq));
  if (seqs.size !== sale.itemList.length) return 'itemSeq repeats';
  const taxable = Object.fromEntries(TAX_TYPE_CODES.map((t) => [t, 0])) as Record<TaxType, number>;
  const tax = { ...taxable };
  for (const item of sale.itemList) {
    const where = `itemList[itemSeq=${item.itemSeq}]`;
    const type = item.taxTyCd as TaxType;
    if (Math.abs(cents(item.splyAmt) - cents(item.prc * item.qty)) > 1)
      return `${where}.splyAmt is not prc × qty`;
    if (cents(item.taxblAmt) !== cents(item.splyAmt) - cents(item.dcAmt))
      return `${where}.taxblAmt is not splyAmt − dcAmt`;
    if (cents(item.totAmt) !== cents(item.taxblAmt)) return `${where}.totAmt is not taxblAmt`;
    const rate = rates[type];
    const exact = (item.taxblAmt * rate) / (100 + rate);
    if ((rate === 0 && item.taxAmt !== 0) || Math.abs(item.taxAmt - exact) >= 1)
      return `${where}.taxAmt is not the tax of band ${type}`;
    taxable[type] += cents(item.taxblAmt);
    tax[type] += cents(item.taxAmt);
  }
  for (const type of TAX_TYPE_CODES) {
    if (sale[`taxRt${type}`] !== rates[type]) return `taxRt${type} must be ${rates[type]}`;
    if (cents(sale[`taxblAmt${type}`]) !== taxable[type])
      return `taxblAmt${type} is not the sum of its items`;
    if (cents(sale[`taxAmt${type}`]) !== tax[type])
      return `taxAmt${type} is not the sum of its items`;
  }
  const totalTaxable = TAX_TYPE_CODES.reduce((sum, t) => sum + taxable[t], 0);
  const totalTax = TAX_TYPE_CODES.reduce((sum, t) => sum + tax[t], 0);
  if (cents(sale.totTaxblAmt) !== totalTaxable) return 'totTaxblAmt is not the sum of the bands';
  if (cents(sale.totTaxAmt) !== totalTax) return 'totTaxAmt is not the sum of the bands';
  if (cents(sale.totAmt) !== totalTaxable) return 'totAmt is not totTaxblAmt';
  return null;
}
