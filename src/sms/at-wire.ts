import { z } from '../lib/zod.js';

// Africa's Talking SMS (REST): `POST /version1/messaging`, form-encoded `username`, `to`
// (comma-separated, +254…), `message`, optional `from` (sender id); header `apiKey`;
// `Accept: application/json` gets a JSON answer, `201 Created` when the request was taken.

export const AT_HOSTS = {
  live: 'https://api.africastalking.com',
  sandbox: 'https://api.sandbox.africastalking.com',
} as const;

export const MESSAGING_PATH = '/version1/messaging';

/** Per-recipient `statusCode`s of the send answer, with AT's `status` names. */
export const RECIPIENT_STATUS = {
  100: 'Processed',
  101: 'Sent',
  102: 'Queued',
  401: 'RiskHold',
  402: 'InvalidSenderId',
  403: 'InvalidPhoneNumber',
  404: 'UnsupportedNumberType',
  405: 'InsufficientBalance',
  406: 'UserInBlacklist',
  407: 'CouldNotRoute',
  409: 'DoNotDisturbRejection',
  500: 'InternalServerError',
  501: 'GatewayError',
  502: 'RejectedByGateway',
} as const;
export type RecipientStatusCode = keyof typeof RECIPIENT_STATUS;

export const Recipient = z.object({
  statusCode: z.coerce.number().int(),
  number: z.string().max(32),
  status: z.string().max(64),
  cost: z.string().max(32),
  messageId: z.string().max(128),
});
export type Recipient = z.infer<typeof Recipient>;

export const SendAnswer = z.object({
  SMSMessageData: z.object({
    Message: z.string().max(1000),
    Recipients: z.array(Recipient).max(1000),
  }),
});

/**
 * Delivery report statuses: `Sent`, `Submitted`, `Buffered` on the way; `Rejected`,
 * `Success`, `Failed` final (AT's "Delivery reports" page). Others are kept as sent.
 */
export const FINAL_DELIVERY_STATUSES = new Set(['Rejected', 'Success', 'Failed']);

/** The delivery report callback: a form POST to the URL set in AT's dashboard. */
export const DeliveryReport = z.object({
  id: z.string().min(1).max(128),
  status: z.string().min(1).max(64),
  phoneNumber: z.string().min(1).max(32),
  networkCode: z.string().max(16).optional(),
  /** Only when `status` is Rejected or Failed (and the telco says why). */
  failureReason: z.string().max(128).optional(),
  retryCount: z.coerce.number().int().min(0).max(1000).optional(),
});
export type DeliveryReport = z.infer<typeof DeliveryReport> & { final: boolean };

/** A delivery report from its form fields (a body string or parsed fields). */
export function parseDeliveryReport(
  form: string | URLSearchParams | Record<string, unknown>,
): { ok: true; report: DeliveryReport } | { ok: false; problem: string } {
  const fields =
    typeof form === 'string' || form instanceof URLSearchParams
      ? Object.fromEntries(new URLSearchParams(form))
      : form;
  const cleaned = Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== '' && value !== undefined),
  );
  const parsed = DeliveryReport.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}` };
  }
  return {
    ok: true,
    report: { ...parsed.data, final: FINAL_DELIVERY_STATUSES.has(parsed.data.status) },
  };
}

/** `+2547XXXXXXXX` / `+2541XXXXXXXX` from a normalised MSISDN (mpesa/phone.ts). */
export const toE164 = (msisdn: string) => `+${msisdn}`;

/** A phone number fit for a log line: its last three digits. */
export const maskPhone = (phone: string) => `***${phone.replace(/\D/g, '').slice(-3)}`;
