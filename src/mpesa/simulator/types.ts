import type { DarajaApp } from './apps.js';
import type { C2bDesk, C2bPayParams, C2bTransaction } from './c2b.js';
import type { Scenario } from './scenarios.js';
import type { Json } from './wire.js';

export interface SimulatorOptions {
  consumerKey: string;
  consumerSecret: string;
  shortcode: string;
  passkey: string;
  /** Delay before the callback (and before the query knows the result). */
  callbackDelayMs: number;
  /** Delay of the `…0007` late callback: after the payment would have expired. */
  lateCallbackDelayMs: number;
  /** How long the `…0005` query answers "being processed" before 1037. */
  noCallbackQueryPendingMs: number;
  /** Callbacks are not delivered at all (a lost callback: only the query knows). */
  dropCallbacks: boolean;
  tokenTtlSeconds: number;
  /** C2B: call the validation URL before confirming (Safaricom enables it per shortcode). */
  c2bExternalValidation: boolean;
  /** How long M-Pesa waits for the validation answer before applying ResponseType. */
  c2bValidationTimeoutMs: number;
  log: (message: string) => void;
}

export interface SimulatedTransaction {
  checkoutRequestId: string;
  merchantRequestId: string;
  scenario: Scenario;
  phone: string;
  amount: number;
  callbackUrl: string;
  receiptNumber: string;
  /** When the result is known (epoch ms); the query says "being processed" until then. */
  resultAt: number;
}

export interface DarajaSimulator {
  url: string;
  port: number;
  options: SimulatorOptions;
  stats: { tokenRequests: number; pushes: number; queries: number; callbacksSent: number };
  transactions: Map<string, SimulatedTransaction>;
  /** Every request received (path and JSON body), newest last. */
  requests: { path: string; body: Json }[];
  /** Forgets every app's current token, as when each issued a new one elsewhere. */
  invalidateTokens(): void;
  /** Another app (a business's own credentials and shortcode); the options' app is the first. */
  addApp(app: DarajaApp): void;
  /** C2B: registered URLs per shortcode, and every simulated customer payment. */
  c2b: C2bDesk;
  /** A customer pays a till/paybill; resolves once the shop's URLs have been called. */
  payC2b(params: C2bPayParams): Promise<C2bTransaction>;
  /** Sends a transaction's callback now (a callback held back, delivered late or again). */
  deliverCallback(checkoutRequestId: string): Promise<void>;
  /** The next request to `path` answers this instead (queued; error-mapping tests). */
  failNext(path: string, status: number, body: unknown): void;
  close(): Promise<void>;
}
