import { createHash } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import type { AppDeps } from '../../deps.js';
import type { SubscriptionPlan } from '../../db/schema/index.js';
import type { Caller } from '../auth/caller.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { outboxMessage } from '../../jobs/types.js';
import { applyCallbackJob } from './payments.job.js';
import { AppError, notFound } from '../../lib/errors.js';
import { newId, UUID_PATTERN } from '../../lib/ids.js';
import { paymentProviderOf } from '../../mpesa/mpesa-provider.js';
import type { PaymentProvider } from '../../mpesa/provider.js';
import { businessProviderOf } from '../till/till-daraja.js';
import { newCallbackToken, requireTillSettings } from '../till/till-settings.js';
import { roleHas } from '../auth/permissions.js';
import { toPaymentResource } from './payment-resource.js';
import type { Payment, SaleStkPushBody } from './payments.schemas.js';
import {
  findPayment,
  findPaymentByTokenHash,
  insertInbox,
  insertPayment,
  recordRequested,
  updatePayment,
} from './payments.repo.js';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

interface StartPayment {
  purpose: 'subscription' | 'sale';
  /** The platform's Daraja app (subscriptions) or the business's own (sales at the till). */
  provider: PaymentProvider;
  businessCredentials: boolean;
  plan: SubscriptionPlan | null;
  amount: number;
  phoneNumber: string;
  reference: string | null;
  accountReference: string;
  description: string;
}

/**
 * Records the payment first, then asks M-Pesa: if we crash after Daraja accepted, the row
 * (and its callback token) already exists, so the customer's money still finds its payment.
 */
async function startPayment(deps: AppDeps, caller: Caller, input: StartPayment): Promise<Payment> {
  // Hex: a base64 token could spell a word Daraja refuses in a callback URL (till.service.ts).
  const token = newCallbackToken();
  const id = newId();
  const now = deps.clock();
  await insertPayment(deps.db, {
    id,
    businessId: caller.businessId,
    purpose: input.purpose,
    plan: input.plan,
    amount: input.amount,
    phoneNumber: input.phoneNumber,
    callbackTokenHash: hashToken(token),
    reference: input.reference,
    businessCredentials: input.businessCredentials,
    createdBy: caller.userId,
    createdAt: now,
    updatedAt: now,
  });
  try {
    const ack = await input.provider.initiate({
      amount: input.amount,
      phoneNumber: input.phoneNumber,
      accountReference: input.accountReference,
      description: input.description,
      callbackUrl: `${deps.config.publicUrl}/bv-payments/callbacks/stk/${token}`,
    });
    return toPaymentResource(await recordRequested(deps.db, id, ack));
  } catch (error) {
    // Never accepted as far as we know. A callback that still reaches this token later is
    // money that arrived: payments.rules.ts decides what happens then.
    await updatePayment(deps.db, id, {
      status: 'failed',
      resultDesc: `Not accepted by M-Pesa: ${error instanceof AppError ? error.message : 'no answer'}`,
      completedAt: deps.clock(),
    }).catch(() => undefined);
    throw error;
  }
}

/** Prompts the owner's phone to pay for a subscription plan (price from configuration). */
export async function startSubscriptionPayment(
  deps: AppDeps,
  caller: Caller,
  input: { plan: SubscriptionPlan; phoneNumber: string },
): Promise<Payment> {
  return startPayment(deps, caller, {
    purpose: 'subscription',
    provider: paymentProviderOf(deps),
    businessCredentials: false,
    plan: input.plan,
    amount: deps.config.plans[input.plan],
    phoneNumber: input.phoneNumber,
    reference: null,
    accountReference: 'Subscription',
    description: input.plan === 'monthly' ? 'Monthly plan' : 'Annual plan',
  });
}

/** Prompts a customer's phone to pay at the till, through the business's own Daraja app. */
export async function startSalePayment(
  deps: AppDeps,
  caller: Caller,
  input: SaleStkPushBody,
): Promise<Payment> {
  // The business's own till or paybill; without its settings → 422.
  const settings = await requireTillSettings(deps, caller.businessId);
  return startPayment(deps, caller, {
    purpose: 'sale',
    provider: businessProviderOf(deps, settings),
    businessCredentials: true,
    plan: null,
    amount: input.amount,
    phoneNumber: input.phoneNumber,
    reference: input.reference,
    accountReference: input.reference,
    description: 'Sale payment',
  });
}

/** One payment of the caller's business; subscription payments only for billing managers. */
export async function getPayment(deps: AppDeps, caller: Caller, id: string): Promise<Payment> {
  const row = UUID_PATTERN.test(id) ? await findPayment(deps.db, caller.businessId, id) : undefined;
  if (!row || (row.purpose === 'subscription' && !roleHas(caller.role, 'billing:manage'))) {
    throw notFound('Payment');
  }
  return toPaymentResource(row);
}

const allowlists = new WeakMap<string[], BlockList>();

/** Whether a callback's source address passes MPESA_CALLBACK_ALLOWLIST (empty = off). */
export function isAllowedCallbackSource(cidrs: string[], ip: string): boolean {
  if (cidrs.length === 0) return true;
  let list = allowlists.get(cidrs);
  if (!list) {
    list = new BlockList();
    for (const cidr of cidrs) {
      const [address = '', bits] = cidr.split('/');
      const type = isIPv4(address) ? 'ipv4' : 'ipv6';
      list.addSubnet(
        address,
        bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits),
        type,
      );
    }
    allowlists.set(cidrs, list);
  }
  const plain = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
}

/**
 * Stores a callback for the payment its token names, and the job that applies it, in one
 * transaction; answering Safaricom never waits for the settlement. Unknown token → 404.
 */
export async function receiveCallback(
  deps: AppDeps,
  input: { token: string; payload: unknown; sourceIp: string },
): Promise<void> {
  if (!isAllowedCallbackSource(deps.config.mpesa.callbackAllowlist, input.sourceIp)) {
    deps.logger.warn({ sourceIp: input.sourceIp }, 'M-Pesa callback from outside the allowlist');
    throw new AppError('FORBIDDEN', 'This address may not deliver M-Pesa callbacks');
  }
  const payment = await findPaymentByTokenHash(deps.db, hashToken(input.token));
  if (!payment) throw notFound('Callback');
  const inboxId = newId();
  await deps.db.transaction(async (tx) => {
    await insertInbox(tx, {
      id: inboxId,
      paymentId: payment.id,
      rawPayload: input.payload,
      sourceIp: input.sourceIp,
      receivedAt: deps.clock(),
    });
    await writeOutbox(tx, outboxMessage(applyCallbackJob, payment.businessId, { inboxId }));
  });
}
