import { AppError } from '../../lib/errors.js';
import { containedTax, roundDiv, toThousandths } from '../sales/sales.rules.js';

/**
 * The money of a return (API.md "Returns (credit notes)"): integer cents, computed from the
 * sold line alone, so a return refunds what the customer paid for those units. Pure.
 *
 * A sold line's *net* is what it was charged: its total less its share of the sale
 * discount. A return of `q` of its `Q` units refunds round(net × q / Q), with the VAT that
 * amount contains at the line's rate (sales.rules.ts containedTax, as a sale computes it).
 * The return that brings the returned quantity to `Q` takes exactly what is left of the
 * line's net and tax, so a line (and a sale) returned in any number of pieces refunds its
 * net (total) to the cent. Each piece's rounding is at most half a cent, so the last piece
 * differs from its proportional share by at most half a cent per earlier piece; an earlier
 * piece never takes more than is left (clamped: reachable only when a unit is worth less
 * than that, e.g. 16 pieces of 7.5 cents), so no piece is negative, and a piece's VAT is
 * capped by its total.
 */

/** A sold line as returns read it, with what earlier returns already took from it. */
export interface SoldLine {
  /** Units sold, > 0, at most 3 decimals. */
  quantity: number;
  /** What the line was charged: total − its share of the sale discount (cents). */
  net: number;
  /** The VAT the line contains (cents), as the sale stored it. */
  tax: number;
  /** Basis points. */
  taxRate: number;
  /** Σ quantity, total and tax of this line's earlier returns. */
  returnedQuantity: number;
  returnedTotal: number;
  returnedTax: number;
}

export interface ReturnedLineAmounts {
  total: number;
  tax: number;
  /** True when this return brings the line's returned quantity to its sold quantity. */
  last: boolean;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** The quantity of `line` not yet returned, in thousandths. */
export const returnableThousandths = (line: Pick<SoldLine, 'quantity' | 'returnedQuantity'>) =>
  toThousandths(line.quantity) - toThousandths(line.returnedQuantity);

/**
 * The total and tax of returning `quantity` of `line`. Throws 422 naming `path` when more
 * would be returned than is left. Invariants (returns.rules.test.ts): 0 ≤ tax ≤ total ≤
 * what is left of the net; the last piece takes exactly the rest.
 */
export function returnedLineAmounts(
  line: SoldLine,
  quantity: number,
  path: string,
): ReturnedLineAmounts {
  const sold = toThousandths(line.quantity);
  const returning = toThousandths(quantity);
  const left = returnableThousandths(line);
  if (returning <= 0n || returning > left) {
    throw new AppError(
      'UNPROCESSABLE',
      `Only ${Number(left) / 1000} of this line can still be returned`,
      {
        errors: [
          {
            path,
            message: `At most ${Number(left) / 1000} left to return (sold ${line.quantity}, returned ${line.returnedQuantity})`,
            code: 'over_return',
          },
        ],
      },
    );
  }
  const netLeft = max(0n, BigInt(line.net) - BigInt(line.returnedTotal));
  const taxLeft = max(0n, BigInt(line.tax) - BigInt(line.returnedTax));
  if (returning === left) {
    // The last piece: exactly what is left (its tax capped by its total).
    return { total: Number(netLeft), tax: Number(min(taxLeft, netLeft)), last: true };
  }
  const total = min(roundDiv(BigInt(line.net) * returning, sold), netLeft);
  const tax = min(min(containedTax(total, line.taxRate), taxLeft), total);
  return { total: Number(total), tax: Number(tax), last: false };
}

export interface RefundInput {
  method: string;
  amount: number;
}

/**
 * The refunds must give back exactly the return's total (422 TOTALS_MISMATCH otherwise). A
 * refund to a customer account (`credit`) needs the sale to have been made to a customer:
 * it lowers what that customer owes (customers' ledger, a `return` entry).
 */
export function checkRefunds(
  total: number,
  refunds: RefundInput[],
  saleCustomerId: string | null = null,
): void {
  const credit = refunds.findIndex((refund) => refund.method === 'credit');
  if (credit !== -1 && saleCustomerId === null) {
    throw new AppError(
      'UNPROCESSABLE',
      'A refund to a customer account (method "credit") needs a sale made to a customer',
      {
        errors: [
          {
            path: `refunds.${credit}.method`,
            message: 'the sale has no customer to credit',
            code: 'no_customer',
          },
        ],
      },
    );
  }
  const sum = refunds.reduce((acc, refund) => acc + BigInt(refund.amount), 0n);
  if (sum !== BigInt(total)) {
    throw new AppError(
      'TOTALS_MISMATCH',
      `The refunds add up to ${sum} cents; the return's total is ${total} cents`,
      { errors: [{ path: 'refunds', message: `must add up to ${total}`, code: 'business_rule' }] },
    );
  }
}
