import { TAX_TYPE_CODES, type TaxType } from '../../etims/codes.js';

export { TAX_TYPE_CODES, type TaxType };

/** The VAT rate (basis points) each eTIMS tax type carries: A exempt, B 16 %, C zero, D non-VAT, E 8 %. */
export const TAX_TYPE_RATES: Readonly<Record<TaxType, number>> = {
  A: 0,
  B: 1600,
  C: 0,
  D: 0,
  E: 800,
};

/**
 * The type a rate means when the shop named none: 1600 → B, 800 → E, 0 → A (exempt: the
 * default for a rate of 0, which the shop changes to C or D with PATCH /products/:id).
 * Undefined for a rate no band has.
 */
export function taxTypeOfRate(rate: number): TaxType | undefined {
  if (rate === 1600) return 'B';
  if (rate === 800) return 'E';
  if (rate === 0) return 'A';
  return undefined;
}

/** A product's type as stored, or (older rows) as its rate implies. */
export const effectiveTaxType = (row: { taxType: string | null; taxRate: number }) =>
  (row.taxType as TaxType | null) ?? taxTypeOfRate(row.taxRate);

export type TaxChoice =
  | { ok: true; taxType: TaxType; taxRate: number }
  | { ok: false; field: 'taxType' | 'taxRate'; message: string };

/**
 * The (taxType, taxRate) a product write ends with. `given` is what the request sent;
 * `current` what the product has (create: nothing). A rate alone keeps a current type of
 * that rate (C stays C at 0) or takes the rate's default; a type alone sets its rate.
 */
export function resolveTaxType(
  given: { taxType?: TaxType | undefined; taxRate?: number | undefined },
  current?: { taxType: TaxType | undefined; taxRate: number },
): TaxChoice {
  const { taxType, taxRate } = given;
  if (taxType !== undefined && taxRate !== undefined) {
    if (TAX_TYPE_RATES[taxType] !== taxRate) {
      return {
        ok: false,
        field: 'taxRate',
        message: `taxRate ${taxRate} disagrees with taxType ${taxType} (${TAX_TYPE_RATES[taxType]})`,
      };
    }
    return { ok: true, taxType, taxRate };
  }
  if (taxType !== undefined) return { ok: true, taxType, taxRate: TAX_TYPE_RATES[taxType] };
  const rate = taxRate ?? current?.taxRate ?? 0;
  if (current?.taxType !== undefined && TAX_TYPE_RATES[current.taxType] === rate) {
    return { ok: true, taxType: current.taxType, taxRate: rate };
  }
  const derived = taxTypeOfRate(rate);
  if (derived === undefined) {
    return {
      ok: false,
      field: 'taxRate',
      message: 'taxRate must be an eTIMS band rate: 0 (A, C or D), 800 (E) or 1600 (B)',
    };
  }
  return { ok: true, taxType: derived, taxRate: rate };
}
