/**
 * The boundary between the payment state machine and a payment network. The state machine
 * (modules/payments) only sees these shapes, so a card or Flutterwave provider is a new
 * implementation of this interface, not a change to how payments settle.
 */

export interface InitiateRequest {
  /** Cents; providers convert to their own unit. */
  amount: number;
  phoneNumber: string;
  /** Shown to the customer (≤ 12 characters for M-Pesa). */
  accountReference: string;
  /** ≤ 13 characters for M-Pesa. */
  description: string;
  /** Where the provider must POST the result. */
  callbackUrl: string;
}

export interface InitiateResult {
  merchantRequestId: string;
  checkoutRequestId: string;
  customerMessage: string;
}

/** A final answer from the network, in the state machine's terms. */
export interface FinalResult {
  outcome: 'succeeded' | 'cancelled' | 'failed';
  /** The provider's numeric result code (null when it is not numeric). */
  resultCode: number | null;
  resultDesc: string;
}

export type QueryResult = { state: 'pending' } | ({ state: 'final' } & FinalResult);

export interface CallbackResult extends FinalResult {
  checkoutRequestId: string;
  merchantRequestId: string | null;
  /** Present on success callbacks: what the network says was paid (cents) and by whom. */
  amount: number | null;
  receiptNumber: string | null;
  phoneNumber: string | null;
}

export interface PaymentProvider {
  readonly name: string;
  /** Asks the customer's phone to pay; answers once the network accepted the request. */
  initiate(request: InitiateRequest): Promise<InitiateResult>;
  /** The network's view of a request; `pending` while it is still being processed. */
  query(checkoutRequestId: string): Promise<QueryResult>;
  /** Parses a stored raw callback body; throws when it is not a callback at all. */
  parseCallback(raw: unknown): CallbackResult;
}
