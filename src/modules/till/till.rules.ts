import { FORBIDDEN_URL_WORDS } from '../../mpesa/c2b-wire.js';

// M-Pesa at the till: which sale a till payment (C2B receipt) pays. Pure.

export const C2B_PAYMENT_STATUSES = ['unclaimed', 'claimed'] as const;
export type C2bPaymentStatus = (typeof C2B_PAYMENT_STATUSES)[number];

/** A sale payment naming a receipt: `{method: "mpesa", reference: "<TransID>"}`. */
export interface NamingPayment {
  id: string;
  saleId: string | null;
  amount: number;
}

/** The receipt as received (null while its confirmation has not arrived). */
export interface Receipt {
  amount: number;
  /** The payment holding it: a sale payment or a payment on account (customer payment). */
  salePaymentId: string | null;
}

export type ConflictReason = 'already_claimed' | 'amount_mismatch';

export type ClaimDecision =
  /** Not received yet: the sale is accepted; the confirmation's apply step claims it. */
  | { action: 'await' }
  /** This payment already holds the receipt: nothing to do. */
  | { action: 'none' }
  | { action: 'claim'; needsReview: false }
  /**
   * The receipt is unclaimed but for another amount: the sale still takes it (one receipt
   * pays at most one sale) and a person looks at the difference.
   */
  | { action: 'claim'; needsReview: true; reason: 'amount_mismatch' }
  /** Another sale holds the receipt: this payment is flagged, the receipt stays where it is. */
  | { action: 'flag'; reason: 'already_claimed' };

/**
 * One receipt pays at most one sale. A sale is a fact, so a second sale naming the receipt
 * is still recorded; its payment is flagged (`needsReview`) instead.
 */
export function decideClaim(payment: NamingPayment, receipt: Receipt | null): ClaimDecision {
  if (receipt === null) return { action: 'await' };
  if (receipt.salePaymentId === payment.id) return { action: 'none' };
  if (receipt.salePaymentId !== null) return { action: 'flag', reason: 'already_claimed' };
  if (receipt.amount !== payment.amount) {
    return { action: 'claim', needsReview: true, reason: 'amount_mismatch' };
  }
  return { action: 'claim', needsReview: false };
}

/**
 * The TransID a sale payment names, or null: M-Pesa payments whose reference looks like a
 * receipt number (letters and digits; typed in lower case at a till, received upper case).
 */
export function namedTransId(payment: { method: string; reference: string | null }): string | null {
  if (payment.method !== 'mpesa' || payment.reference === null) return null;
  const candidate = payment.reference.trim().toUpperCase();
  return /^[A-Z0-9]{8,20}$/.test(candidate) ? candidate : null;
}

/** A word Daraja refuses in a callback URL, found in `url` (any case), or undefined. */
export function refusedUrlWord(url: string): string | undefined {
  const lower = url.toLowerCase();
  return FORBIDDEN_URL_WORDS.find((word) => lower.includes(word));
}

/** A confirmation for one of the business's numbers: the shortcode, or its till. */
export function acceptsShortcode(
  settings: { shortcode: string; tillNumber: string | null },
  shortcode: string,
): boolean {
  return shortcode === settings.shortcode || shortcode === settings.tillNumber;
}
