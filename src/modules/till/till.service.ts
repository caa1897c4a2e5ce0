import { createHash } from 'node:crypto';
import type { AppDeps } from '../../deps.js';
import type { DbOrTx } from '../../db/client.js';
import type { BusinessMpesaSettingsRow, C2bCallbackKind } from '../../db/schema/index.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { outboxMessage } from '../../jobs/types.js';
import { clampLimit, decodeIdCursor, toIdPage } from '../../lib/cursor.js';
import { AppError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { C2B_VALIDATION_RESULTS, parseC2bPayload } from '../../mpesa/c2b-wire.js';
import type { Caller } from '../auth/caller.js';
import { isAllowedCallbackSource } from '../payments/payments.service.js';
import { encryptSecret } from '../webhooks/webhook-secret.js';
import { businessProviderOf } from './till-daraja.js';
import { newCallbackToken, requireTillSettings } from './till-settings.js';
import { applyC2bJob, conflictEvent } from './till.job.js';
import {
  claimC2bPayment,
  findBusinessByC2bToken,
  findMpesaPaymentsOfSales,
  findC2bPayment,
  findTillSettings,
  flagCustomerPayment,
  flagSalePayment,
  insertC2bInbox,
  listC2bPayments,
  lockReceipt,
  receivedReceipts,
  markC2bRegistered,
  upsertTillSettings,
} from './till.repo.js';
import { acceptsShortcode, decideClaim, namedTransId } from './till.rules.js';
import type {
  PutTillSettingsBody,
  TillPayment,
  TillPaymentListQuery,
  TillSettings,
} from './till.schemas.js';
import { toTillPayment } from './till-payment.presenter.js';
import type { Sale } from '../sales/sales.schemas.js';
import { decryptSecret } from '../webhooks/webhook-secret.js';

export const hashC2bToken = (token: string) => createHash('sha256').update(token).digest('hex');

const c2bUrls = (deps: AppDeps, token: string) => ({
  confirmationUrl: `${deps.config.publicUrl}/bv-payments/callbacks/c2b/${token}/confirmation`,
  validationUrl: `${deps.config.publicUrl}/bv-payments/callbacks/c2b/${token}/validation`,
});

function present(deps: AppDeps, row: BusinessMpesaSettingsRow | undefined): TillSettings {
  if (!row) {
    return {
      configured: false,
      environment: null,
      type: null,
      shortcode: null,
      tillNumber: null,
      c2bRegisteredAt: null,
      c2bConfirmationUrl: null,
      c2bValidationUrl: null,
    };
  }
  const urls = c2bUrls(deps, decryptSecret(row.c2bTokenCiphertext, deps.config.webhooks.secretKey));
  return {
    configured: true,
    environment: row.environment,
    type: row.type,
    shortcode: row.shortcode,
    tillNumber: row.tillNumber,
    c2bRegisteredAt: row.c2bRegisteredAt?.toISOString() ?? null,
    c2bConfirmationUrl: urls.confirmationUrl,
    c2bValidationUrl: urls.validationUrl,
  };
}

/** `PUT /business/mpesa`: the business's own Daraja app; secrets encrypted at rest. */
export async function putTillSettings(
  deps: AppDeps,
  caller: Caller,
  body: PutTillSettingsBody,
): Promise<TillSettings> {
  const key = deps.config.webhooks.secretKey;
  const token = newCallbackToken();
  const row = await upsertTillSettings(deps.db, {
    businessId: caller.businessId,
    environment: body.environment,
    type: body.type,
    shortcode: body.shortcode,
    tillNumber: body.tillNumber ?? null,
    consumerKeyCiphertext: encryptSecret(body.consumerKey, key),
    consumerSecretCiphertext: encryptSecret(body.consumerSecret, key),
    passkeyCiphertext: encryptSecret(body.passkey, key),
    // Kept from the first write (upsertTillSettings): registered URLs stay valid.
    c2bTokenHash: hashC2bToken(token),
    c2bTokenCiphertext: encryptSecret(token, key),
  });
  deps.logger.info(
    { businessId: caller.businessId, environment: row.environment, type: row.type },
    'M-Pesa till settings saved',
  );
  return present(deps, row);
}

export async function getTillSettings(deps: AppDeps, caller: Caller): Promise<TillSettings> {
  return present(deps, await findTillSettings(deps.db, caller.businessId));
}

/** `POST /business/mpesa/register-c2b`: C2B Register URL with the business's own app. */
export async function registerC2b(deps: AppDeps, caller: Caller) {
  const row = await requireTillSettings(deps, caller.businessId);
  const token = decryptSecret(row.c2bTokenCiphertext, deps.config.webhooks.secretKey);
  const urls = c2bUrls(deps, token);
  const ack = await businessProviderOf(deps, row).client.registerC2bUrls({
    // An unreachable validation URL must not turn customers' money away.
    responseType: 'Completed',
    ...urls,
  });
  const at = deps.clock();
  await markC2bRegistered(deps.db, caller.businessId, at);
  return {
    c2bRegisteredAt: at.toISOString(),
    c2bConfirmationUrl: urls.confirmationUrl,
    c2bValidationUrl: urls.validationUrl,
    responseDescription: ack.responseDescription.slice(0, 500),
  };
}

/**
 * Safaricom's validation or confirmation request for the business whose token is in the
 * path. Unknown token → 404, nothing stored. The raw body is stored before the answer; a
 * confirmation's job (through the outbox, same transaction) records the receipt.
 * Validation is answered from the payload: a body that is not C2B's, or for another
 * shortcode, is rejected; otherwise accepted (what the shop sells is decided at the till).
 */
export async function receiveC2bCallback(
  deps: AppDeps,
  input: { token: string; kind: C2bCallbackKind; payload: unknown; sourceIp: string },
): Promise<{ ResultCode: string; ResultDesc: string }> {
  if (!isAllowedCallbackSource(deps.config.mpesa.callbackAllowlist, input.sourceIp)) {
    deps.logger.warn({ sourceIp: input.sourceIp }, 'M-Pesa C2B call from outside the allowlist');
    throw new AppError('FORBIDDEN', 'This address may not deliver M-Pesa callbacks');
  }
  const businessId = await findBusinessByC2bToken(deps.db, hashC2bToken(input.token));
  if (!businessId) throw notFound('Callback');
  const inboxId = newId();
  let answer: { ResultCode: string; ResultDesc: string } = C2B_VALIDATION_RESULTS.accepted;
  if (input.kind === 'validation') {
    const parsed = parseC2bPayload(input.payload);
    if (!parsed.ok) answer = C2B_VALIDATION_RESULTS.otherError;
    else {
      const settings = await findTillSettings(deps.db, businessId);
      if (settings && !acceptsShortcode(settings, parsed.payment.shortcode)) {
        answer = C2B_VALIDATION_RESULTS.invalidShortcode;
      }
    }
  }
  const now = deps.clock();
  await deps.db.transaction(async (tx) => {
    await insertC2bInbox(tx, {
      id: inboxId,
      businessId,
      kind: input.kind,
      rawPayload: input.payload,
      sourceIp: input.sourceIp,
      receivedAt: now,
      // A validation is only evidence: answered here, nothing to apply.
      ...(input.kind === 'validation'
        ? { processedAt: now, outcome: answer.ResultCode === '0' ? 'validated' : 'rejected' }
        : {}),
    });
    if (input.kind === 'confirmation') {
      await writeOutbox(tx, outboxMessage(applyC2bJob, businessId, { inboxId }));
    }
  });
  return { ResultCode: answer.ResultCode, ResultDesc: answer.ResultDesc };
}

/** `GET /bv-payments/c2b`: the checkout screen's list, newest first. */
export async function listTillPayments(
  deps: AppDeps,
  caller: Caller,
  query: TillPaymentListQuery,
): Promise<{ data: TillPayment[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const rows = await listC2bPayments(deps.db, caller.businessId, {
    status: query.status,
    amount: query.amount,
    since: query.since === undefined ? undefined : new Date(query.since),
    beforeId: decodeIdCursor(query.cursor),
    limit,
  });
  return toIdPage(rows, limit, toTillPayment);
}

export interface NamingSalePayment {
  id: string;
  saleId: string;
  position: number;
  method: string;
  amount: number;
  reference: string | null;
}

/**
 * The claim step of a sale write (sales.service.ts calls it for new sales): each M-Pesa
 * payment naming a received receipt claims it, or is flagged when another sale holds it or
 * the amounts differ (payment.conflict). A receipt not received yet is claimed later by the
 * confirmation's apply step (till.job.ts). All in one transaction holding the receipts'
 * advisory locks (taken in TransID order), so two sales racing for one receipt end with
 * exactly one claim. Returns the flagged payments' ids.
 */
export async function claimNamedReceipts(
  deps: AppDeps,
  businessId: string,
  payments: NamingSalePayment[],
): Promise<Set<string>> {
  const flagged = new Set<string>();
  const naming = payments.flatMap((payment) => {
    const transId = namedTransId(payment);
    return transId === null ? [] : [{ payment, transId }];
  });
  if (naming.length === 0) return flagged;
  await deps.db.transaction(async (tx) => {
    // Every named receipt's lock first, in TransID order (no two claims wait in a cycle).
    await receivedReceipts(tx, businessId, [...new Set(naming.map((n) => n.transId))].sort());
    for (const { payment, transId } of naming) {
      const receipt = await findC2bPayment(tx, businessId, transId);
      const decision = decideClaim(
        payment,
        receipt
          ? {
              amount: receipt.amount,
              salePaymentId: receipt.salePaymentId ?? receipt.customerPaymentId,
            }
          : null,
      );
      if (!receipt || decision.action === 'await' || decision.action === 'none') continue;
      if (decision.action === 'claim') {
        await claimC2bPayment(tx, receipt.id, {
          saleId: payment.saleId,
          salePaymentId: payment.id,
          claimedAt: deps.clock(),
        });
      }
      if (decision.action === 'flag' || decision.needsReview) {
        await flagSalePayment(tx, payment.id);
        flagged.add(payment.id);
        await writeOutbox(
          tx,
          conflictEvent(businessId, {
            transId,
            saleId: payment.saleId,
            amount: payment.amount,
            receivedAmount: receipt.amount,
            reason: decision.reason,
            claimedBySaleId: decision.action === 'flag' ? receipt.saleId : payment.saleId,
            ...(decision.action === 'flag' && receipt.customerPaymentId !== null
              ? { claimedByCustomerPaymentId: receipt.customerPaymentId }
              : {}),
          }),
        );
      }
    }
  });
  return flagged;
}

/**
 * The claim step of a payment on account (customers.service.ts, inside the payment's own
 * transaction): an M-Pesa payment naming a received receipt claims it under the same
 * advisory lock as a sale's claim step and the confirmation's apply step. Held by a sale or
 * another payment, or another amount → the payment stays recorded (money was received) but
 * is flagged `needsReview` and `payment.conflict` is written. Not received yet → accepted;
 * the apply step claims it later. Returns true when the payment was flagged.
 */
export async function claimReceiptForCustomerPayment(
  tx: DbOrTx,
  now: Date,
  businessId: string,
  payment: { id: string; method: string; amount: number; reference: string | null },
): Promise<boolean> {
  const transId = namedTransId(payment);
  if (transId === null) return false;
  await lockReceipt(tx, businessId, transId);
  const receipt = await findC2bPayment(tx, businessId, transId);
  if (!receipt) return false;
  const decision = decideClaim(
    { id: payment.id, saleId: null, amount: payment.amount },
    { amount: receipt.amount, salePaymentId: receipt.salePaymentId ?? receipt.customerPaymentId },
  );
  if (decision.action === 'await' || decision.action === 'none') return false;
  if (decision.action === 'claim') {
    await claimC2bPayment(tx, receipt.id, { customerPaymentId: payment.id, claimedAt: now });
  }
  if (decision.action === 'claim' && !decision.needsReview) return false;
  await flagCustomerPayment(tx, payment.id);
  await writeOutbox(
    tx,
    conflictEvent(businessId, {
      transId,
      saleId: null,
      customerPaymentId: payment.id,
      amount: payment.amount,
      receivedAmount: receipt.amount,
      reason: decision.reason,
      claimedBySaleId: decision.action === 'flag' ? receipt.saleId : null,
      claimedByCustomerPaymentId:
        decision.action === 'flag' ? receipt.customerPaymentId : payment.id,
    }),
  );
  return true;
}

/**
 * After new sales are written: their M-Pesa payments naming a receipt claim it (or are
 * flagged); the sales come back with `needsReview` on flagged payments. Sales naming no
 * receipt cost nothing here.
 */
export async function claimReceiptsOfNewSales(
  deps: AppDeps,
  businessId: string,
  sales: Sale[],
): Promise<Sale[]> {
  const named = new Set(
    sales.flatMap((sale) => sale.payments.map(namedTransId)).filter((id) => id !== null),
  );
  if (named.size === 0) return sales;
  // Usually the receipts are not in yet (or the till is not ours): one round trip, no
  // transaction, tells so; the claim transaction runs only for receipts already received.
  const received = await receivedReceipts(deps.db, businessId, [...named].sort());
  if (received.size === 0) return sales;
  const naming = sales.filter((sale) =>
    sale.payments.some((payment) => received.has(namedTransId(payment) ?? '')),
  );
  const payments = (
    await findMpesaPaymentsOfSales(
      deps.db,
      businessId,
      naming.map((sale) => sale.id),
    )
  ).filter((payment) => received.has(namedTransId(payment) ?? ''));
  const flagged = await claimNamedReceipts(deps, businessId, payments);
  if (flagged.size === 0) return sales;
  const flaggedPositions = new Set(
    payments.filter((payment) => flagged.has(payment.id)).map((p) => `${p.saleId}:${p.position}`),
  );
  return sales.map((sale) => ({
    ...sale,
    payments: sale.payments.map((payment, position) =>
      flaggedPositions.has(`${sale.id}:${position}`) ? { ...payment, needsReview: true } : payment,
    ),
  }));
}
