import type { AppDeps } from '../deps.js';
import { z } from '../lib/zod.js';
import { DarajaClient, type DarajaSettings } from './daraja-client.js';
import type { CallbackResult, FinalResult, PaymentProvider } from './provider.js';

/** Daraja's result codes in the state machine's terms: 0 paid, 1032 cancelled, else failed. */
export function toFinalResult(code: string | number, desc: string): FinalResult {
  const numeric = typeof code === 'number' ? code : /^-?\d+$/.test(code) ? Number(code) : null;
  const resultDesc = numeric === null ? `[${String(code)}] ${desc}` : desc;
  if (numeric === 0) return { outcome: 'succeeded', resultCode: 0, resultDesc };
  if (numeric === 1032) return { outcome: 'cancelled', resultCode: 1032, resultDesc };
  return { outcome: 'failed', resultCode: numeric, resultDesc };
}

// Items are a name → value list; Balance may come without a Value, extra items may appear.
const CallbackItem = z.looseObject({
  Name: z.string(),
  Value: z.union([z.string(), z.number()]).optional(),
});

const StkCallbackBody = z.looseObject({
  Body: z.looseObject({
    stkCallback: z.looseObject({
      MerchantRequestID: z.string().optional(),
      CheckoutRequestID: z.string().min(1),
      ResultCode: z.union([z.number(), z.string()]),
      ResultDesc: z.string().default(''),
      CallbackMetadata: z.looseObject({ Item: z.array(CallbackItem).default([]) }).optional(),
    }),
  }),
});

/** Parses Daraja's STK callback (`Body.stkCallback`); amounts come in shillings. */
export function parseStkCallback(raw: unknown): CallbackResult {
  const callback = StkCallbackBody.parse(raw).Body.stkCallback;
  const items = new Map(
    (callback.CallbackMetadata?.Item ?? []).map((item) => [item.Name, item.Value]),
  );
  const amount = items.get('Amount');
  const receipt = items.get('MpesaReceiptNumber');
  const phone = items.get('PhoneNumber');
  const shillings = amount === undefined ? null : Number(amount);
  return {
    ...toFinalResult(callback.ResultCode, callback.ResultDesc),
    checkoutRequestId: callback.CheckoutRequestID,
    merchantRequestId: callback.MerchantRequestID ?? null,
    amount: shillings === null || !Number.isFinite(shillings) ? null : Math.round(shillings * 100),
    receiptNumber: receipt === undefined ? null : String(receipt),
    phoneNumber: phone === undefined ? null : String(phone),
  };
}

/**
 * M-Pesa Express (STK push) behind the provider interface: the platform's Daraja app
 * (config.mpesa) by default, or a business's own (modules/till/till-daraja.ts).
 */
export function createMpesaProvider(
  deps: Pick<AppDeps, 'config' | 'redis' | 'logger' | 'clock'>,
  settings: DarajaSettings = deps.config.mpesa,
) {
  const client = new DarajaClient(
    settings,
    deps.redis,
    deps.config.redis.prefix,
    deps.logger.child({ component: 'daraja' }),
    deps.clock,
  );
  const provider: PaymentProvider & { client: DarajaClient } = {
    name: 'mpesa',
    client,
    async initiate(request) {
      const ack = await client.stkPush({
        amountCents: request.amount,
        phoneNumber: request.phoneNumber,
        callbackUrl: request.callbackUrl,
        accountReference: request.accountReference,
        transactionDesc: request.description,
      });
      return {
        merchantRequestId: ack.MerchantRequestID,
        checkoutRequestId: ack.CheckoutRequestID,
        customerMessage: ack.CustomerMessage ?? ack.ResponseDescription ?? '',
      };
    },
    async query(checkoutRequestId) {
      const answer = await client.stkQuery(checkoutRequestId);
      return answer.state === 'pending'
        ? answer
        : { state: 'final', ...toFinalResult(answer.resultCode, answer.resultDesc) };
    },
    parseCallback: parseStkCallback,
  };
  return provider;
}

export type MpesaProvider = ReturnType<typeof createMpesaProvider>;

const built = new WeakMap<AppDeps, PaymentProvider>();

/** The deps' payment provider: `deps.paymentProvider` when set, else M-Pesa from config. */
export function paymentProviderOf(deps: AppDeps): PaymentProvider {
  if (deps.paymentProvider) return deps.paymentProvider;
  let provider = built.get(deps);
  if (!provider) {
    provider = createMpesaProvider(deps);
    built.set(deps, provider);
  }
  return provider;
}
