import { timingSafeEqual } from 'node:crypto';
import type { DbOrTx } from '../../db/client.js';
import type { SmsKind } from '../../db/schema/index.js';
import type { AppDeps } from '../../deps.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { outboxMessage } from '../../jobs/types.js';
import { clampLimit, decodeIdCursor, nextIdCursor } from '../../lib/cursor.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { normalisePhone } from '../../mpesa/phone.js';
import { maskPhone, parseDeliveryReport } from '../../sms/at-wire.js';
import type { Caller } from '../auth/caller.js';
import { findCustomer } from '../customers/customers.repo.js';
import { getSale } from '../sales/sales-admin.service.js';
import { findBusinessName } from '../sales/sales.repo.js';
import { sendSmsJob } from './sms.job.js';
import { toSmsMessage } from './sms.presenter.js';
import * as repo from './sms.repo.js';
import { receiptText, reminderText } from './sms.rules.js';
import type { SmsListQuery, SmsMessage } from './sms.schemas.js';

interface SmsToQueue {
  kind: SmsKind;
  phone: string;
  message: string;
  saleId?: string;
  customerId?: string;
}

/** Logs the message as `queued` and enqueues its sending (outbox → sms worker), in one transaction. */
async function queueSms(deps: AppDeps, caller: Caller, sms: SmsToQueue): Promise<SmsMessage> {
  return deps.db.transaction(async (tx: DbOrTx) => {
    const row = await repo.insertSms(tx, {
      id: newId(),
      businessId: caller.businessId,
      kind: sms.kind,
      phone: sms.phone,
      message: sms.message,
      saleId: sms.saleId ?? null,
      customerId: sms.customerId ?? null,
      requestedBy: caller.userId,
    });
    await writeOutbox(tx, outboxMessage(sendSmsJob, caller.businessId, { smsId: row.id }));
    return toSmsMessage(row);
  });
}

const noPhone = (detail: string) =>
  unprocessable(detail, [
    { path: 'phone', message: 'No phone number to send to', code: 'required' },
  ]);

/**
 * POST /sales/:id/receipt/sms: to `phone`, else the sale's customer's phone, else the
 * phone typed on the sale (when it is a Kenyan mobile); none → 422. A sale the caller
 * cannot see is 404.
 */
export async function sendReceiptSms(
  deps: AppDeps,
  caller: Caller,
  saleId: string,
  phone: string | undefined,
): Promise<SmsMessage> {
  const sale = await getSale(deps, caller, saleId);
  const customer = sale.customerId
    ? await findCustomer(deps.db, caller.businessId, sale.customerId)
    : undefined;
  const to =
    phone ??
    customer?.phone ??
    (sale.customerPhone ? normalisePhone(sale.customerPhone) : null) ??
    undefined;
  if (!to) throw noPhone('The sale has no customer phone number: give `phone`');
  const businessName = await findBusinessName(deps.db, caller.businessId);
  return queueSms(deps, caller, {
    kind: 'receipt',
    phone: to,
    message: receiptText({ ...sale, businessName }),
    saleId: sale.id,
    ...(sale.customerId ? { customerId: sale.customerId } : {}),
  });
}

/** POST /customers/:id/remind: the balance reminder; no phone (or erased) or nothing owed → 422. */
export async function remindCustomer(
  deps: AppDeps,
  caller: Caller,
  customerId: string,
): Promise<SmsMessage> {
  const customer = await findCustomer(deps.db, caller.businessId, customerId);
  if (!customer) throw notFound('Customer');
  if (!customer.phone) throw noPhone('The customer has no phone number');
  if (customer.balance <= 0) {
    throw unprocessable('The customer owes nothing', [
      { path: 'balance', message: 'Nothing to remind of', code: 'too_small' },
    ]);
  }
  const businessName = await findBusinessName(deps.db, caller.businessId);
  return queueSms(deps, caller, {
    kind: 'reminder',
    phone: customer.phone,
    message: reminderText({ businessName, name: customer.name, balance: customer.balance }),
    customerId: customer.id,
  });
}

export async function listSms(
  deps: AppDeps,
  caller: Caller,
  query: SmsListQuery,
): Promise<{ data: SmsMessage[]; nextCursor: string | null }> {
  const limit = clampLimit(query.limit);
  const rows = await repo.listSms(deps.db, caller.businessId, {
    beforeId: decodeIdCursor(query.cursor),
    limit,
  });
  return { data: rows.slice(0, limit).map(toSmsMessage), nextCursor: nextIdCursor(rows, limit) };
}

/** Constant-time comparison of the URL's token with the deployment's. */
function isDeliveryToken(deps: AppDeps, token: string): boolean {
  const expected = deps.config.sms.deliveryReportToken;
  if (!expected) return false;
  const a = Buffer.from(token);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Africa's Talking's delivery report (`POST /sms/delivery-reports/{token}`): a wrong token
 * is 404 and reads nothing. A final report (`Success` → delivered; `Failed` / `Rejected` →
 * failed with AT's reason) settles a `sent` message once; a report for a message we do not
 * know, an intermediate one (`Sent`, `Buffered`…) or a repeat changes nothing. Answers
 * whether the report was about one of ours (AT only needs a 200).
 */
export async function receiveDeliveryReport(
  deps: AppDeps,
  token: string,
  form: Record<string, unknown>,
): Promise<{ received: boolean }> {
  if (!isDeliveryToken(deps, token)) throw notFound('Delivery report URL');
  const parsed = parseDeliveryReport(form);
  if (!parsed.ok) {
    deps.logger.warn({ problem: parsed.problem }, 'SMS delivery report unreadable');
    throw unprocessable(`Not a delivery report (${parsed.problem})`);
  }
  const { report } = parsed;
  const row = await repo.findSmsByProviderId(deps.db, report.id);
  deps.logger.info(
    {
      messageId: report.id,
      status: report.status,
      recipient: maskPhone(report.phoneNumber),
      known: Boolean(row),
    },
    'SMS delivery report',
  );
  if (!row || !report.final) return { received: Boolean(row) };
  const delivered = report.status === 'Success';
  await repo.updateSms(deps.db, row.id, ['queued', 'sent'], {
    status: delivered ? 'delivered' : 'failed',
    ...(delivered
      ? { deliveredAt: deps.clock(), failureReason: null }
      : {
          failureReason: `${report.status}${report.failureReason ? `: ${report.failureReason}` : ''}`,
        }),
  });
  return { received: true };
}
