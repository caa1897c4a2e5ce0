import { AppError } from '../../lib/errors.js';

/**
 * The money of a sale (API.md "Sales"): integer cents, VAT-inclusive prices, tax contained
 * in the total. Pure: every amount here is computed from its arguments alone. Arithmetic is
 * done in BigInt so quantity × price can never lose a cent to floating point.
 */

/** A sale larger than this (100 billion shillings) is a typo, and would not fit a double. */
export const MAX_SALE_AMOUNT = 10_000_000_000_000;
/** How far in the future `occurredAt` may be (device clocks drift a little). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

export interface LineInput {
  /** At most 3 decimals, > 0. */
  quantity: number;
  /** Cents per unit, VAT-inclusive. */
  unitPrice: number;
  /** Cents off this line; ≤ the line's gross. */
  discount: number;
  /** Basis points (1600 = 16%). */
  taxRate: number;
}

export interface LineAmounts {
  /** round(quantity × unitPrice). */
  gross: number;
  discount: number;
  /** gross − discount. */
  total: number;
  /** This line's share of the sale discount. */
  saleDiscountShare: number;
  /** Tax contained in total − saleDiscountShare. */
  tax: number;
}

export interface SaleAmounts {
  lines: LineAmounts[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
}

export interface PaymentInput {
  method: 'cash' | 'mpesa' | 'card' | 'other' | 'credit';
  amount: number;
}

/** Integer division of non-negative a by positive b, rounding half away from zero. */
export function roundDiv(a: bigint, b: bigint): bigint {
  if (a < 0n) return -roundDiv(-a, b);
  return (2n * a + b) / (2n * b);
}

/** A quantity as an integer number of thousandths (0.5 → 500). */
export const toThousandths = (quantity: number): bigint => BigInt(Math.round(quantity * 1000));

/** True when a number has at most 3 decimals (as a JSON number can express it). */
export function hasAtMostThreeDecimals(value: number): boolean {
  const scaled = value * 1000;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

/** round(quantity × unitPrice), half away from zero. */
export function lineGross(quantity: number, unitPrice: number): bigint {
  return roundDiv(toThousandths(quantity) * BigInt(unitPrice), 1000n);
}

/** The VAT contained in a VAT-inclusive amount: round(net × rate / (10000 + rate)). */
export function containedTax(net: bigint, rateBps: number): bigint {
  if (rateBps <= 0) return 0n;
  const rate = BigInt(rateBps);
  return roundDiv(net * rate, 10_000n + rate);
}

/**
 * Splits `amount` over `weights` in proportion, by largest remainder: the shares sum to
 * exactly `amount`, each is the floor of its exact share or one more, and ties go to the
 * earlier line (deterministic, so a replay computes the same receipt).
 */
export function allocateByLargestRemainder(amount: bigint, weights: bigint[]): bigint[] {
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0n);
  if (amount === 0n || totalWeight === 0n) return weights.map(() => 0n);
  const shares = weights.map((weight) => (amount * weight) / totalWeight);
  let left = amount - shares.reduce((sum, share) => sum + share, 0n);
  const byRemainder = weights
    .map((weight, index) => ({ index, remainder: (amount * weight) % totalWeight }))
    .sort((a, b) =>
      a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1,
    );
  const bumped = new Set<number>();
  for (const { index } of byRemainder) {
    if (left === 0n) break;
    bumped.add(index);
    left -= 1n;
  }
  return shares.map((share, index) => (bumped.has(index) ? share + 1n : share));
}

const violation = (code: 'UNPROCESSABLE' | 'TOTALS_MISMATCH', detail: string, path: string) =>
  new AppError(code, detail, { errors: [{ path, message: detail, code: 'business_rule' }] });

/**
 * The server's view of a sale's money: line totals, the sale discount spread over lines,
 * the tax each line contains, and the total. Throws 422 for discounts larger than what
 * they discount and for amounts beyond MAX_SALE_AMOUNT.
 */
export function computeSaleAmounts(lines: LineInput[], saleDiscount: number): SaleAmounts {
  const grosses = lines.map((line) => lineGross(line.quantity, line.unitPrice));
  const totals = grosses.map((gross, index) => {
    const discount = BigInt(lines[index]?.discount ?? 0);
    if (discount > gross) {
      throw violation(
        'UNPROCESSABLE',
        `The discount of line ${index} is larger than the line (${gross} cents)`,
        `lines.${index}.discount`,
      );
    }
    return gross - discount;
  });
  const subtotal = totals.reduce((sum, total) => sum + total, 0n);
  if (subtotal > BigInt(MAX_SALE_AMOUNT)) {
    throw violation('UNPROCESSABLE', 'The sale is larger than any real sale can be', 'lines');
  }
  const discount = BigInt(saleDiscount);
  if (discount > subtotal) {
    throw violation(
      'UNPROCESSABLE',
      `The sale discount is larger than the subtotal (${subtotal} cents)`,
      'discount',
    );
  }
  const shares = allocateByLargestRemainder(discount, totals);
  const lineAmounts = lines.map((line, index): LineAmounts => {
    const total = totals[index] ?? 0n;
    const share = shares[index] ?? 0n;
    return {
      gross: Number(grosses[index] ?? 0n),
      discount: line.discount,
      total: Number(total),
      saleDiscountShare: Number(share),
      tax: Number(containedTax(total - share, line.taxRate)),
    };
  });
  return {
    lines: lineAmounts,
    subtotal: Number(subtotal),
    discount: Number(discount),
    tax: lineAmounts.reduce((sum, line) => sum + line.tax, 0),
    total: Number(subtotal - discount),
  };
}

/** 422 TOTALS_MISMATCH when the device computed another total than the server. */
export function checkClientTotal(serverTotal: number, clientTotal: number | undefined): void {
  if (clientTotal !== undefined && clientTotal !== serverTotal) {
    throw violation(
      'TOTALS_MISMATCH',
      `The sale total is ${serverTotal} cents, not ${clientTotal}`,
      'total',
    );
  }
}

/**
 * Checks that the payments settle `total` and returns the change. Non-cash payments are
 * applied first and may not exceed what is left to pay (nobody hands back M-Pesa change);
 * cash covers the rest and only cash tendered beyond the total is change.
 */
export function settlePayments(total: number, payments: PaymentInput[]): { change: number } {
  let left = BigInt(total);
  payments.forEach((payment, index) => {
    if (payment.method === 'cash') return;
    const amount = BigInt(payment.amount);
    if (amount > left) {
      throw violation(
        'UNPROCESSABLE',
        `The ${payment.method} payment of ${payment.amount} cents is more than the ${left} cents left to pay; only cash gives change`,
        `payments.${index}.amount`,
      );
    }
    left -= amount;
  });
  const cash = payments
    .filter((payment) => payment.method === 'cash')
    .reduce((sum, payment) => sum + BigInt(payment.amount), 0n);
  if (cash < left) {
    throw violation(
      'UNPROCESSABLE',
      `The payments do not cover the total: ${left - cash} cents are missing`,
      'payments',
    );
  }
  return { change: Number(cash - left) };
}

/** 422 when the sale claims to have happened more than MAX_FUTURE_SKEW_MS from now. */
export function checkOccurredAt(occurredAt: Date, now: Date): void {
  if (occurredAt.getTime() - now.getTime() > MAX_FUTURE_SKEW_MS) {
    throw violation(
      'UNPROCESSABLE',
      'occurredAt is in the future (more than 5 minutes ahead of the server clock)',
      'occurredAt',
    );
  }
}
