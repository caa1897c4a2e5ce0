import { z } from '../lib/zod.js';

// Daraja's C2B (customer pays a till or paybill from the phone) wire format: the Register
// URL request, and the validation/confirmation requests Safaricom POSTs to those URLs.

/** Register URL: `POST /mpesa/c2b/v1/registerurl` (v2 hashes the MSISDN in callbacks). */
export interface C2bRegistration {
  ShortCode: string;
  /** What M-Pesa does when the validation URL cannot be reached or answers late. */
  ResponseType: 'Completed' | 'Cancelled';
  ConfirmationURL: string;
  ValidationURL: string;
}

/**
 * Words Daraja refuses inside a registered URL (and, practitioners report, in an STK
 * CallBackURL): the URL is refused at Register URL.
 */
export const FORBIDDEN_URL_WORDS = ['mpesa', 'safaricom', 'exe', 'exec', 'cmd', 'sql', 'query'];

export function forbiddenUrlWord(url: string): string | undefined {
  const lower = url.toLowerCase();
  return FORBIDDEN_URL_WORDS.find((word) => lower.includes(word));
}

const text = (max: number) => z.string().max(max);
/** Daraja sends amounts and balances as text ("10.00"); some proxies turn them into numbers. */
const decimalText = z
  .union([z.string().max(20), z.number()])
  .transform((value) => String(value).trim())
  .pipe(z.string().regex(/^\d+(\.\d{1,2})?$/, 'a decimal amount'));

/**
 * The body of both the validation and the confirmation request. `OrgAccountBalance` is
 * empty in validation; `MSISDN` is masked ("2547 ***** 126") by v1 and a SHA-256 hash by v2;
 * `BillRefNumber` is the account number a paybill customer typed (empty for Buy Goods).
 */
export const C2bPayload = z.object({
  TransactionType: text(40),
  TransID: z.string().regex(/^[A-Z0-9]{8,20}$/, 'an M-Pesa receipt number'),
  TransTime: z.string().regex(/^\d{14}$/, 'YYYYMMDDHHmmss'),
  TransAmount: decimalText,
  BusinessShortCode: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(z.string().regex(/^\d{5,8}$/)),
  BillRefNumber: text(100).nullish(),
  InvoiceNumber: text(100).nullish(),
  OrgAccountBalance: z.union([text(30), z.number()]).nullish(),
  ThirdPartyTransID: text(100).nullish(),
  MSISDN: z.union([text(100), z.number()]).transform(String),
  FirstName: text(100).nullish(),
  MiddleName: text(100).nullish(),
  LastName: text(100).nullish(),
});
export type C2bPayload = z.input<typeof C2bPayload>;

export interface C2bPayment {
  transId: string;
  /** YYYYMMDDHHmmss, East Africa Time, as Daraja sent it. */
  transTime: string;
  amountCents: number;
  shortcode: string;
  billRefNumber: string;
  msisdn: string;
  firstName: string;
  transactionType: string;
}

/** A validation/confirmation body read into our terms, or the first problem with it. */
export function parseC2bPayload(
  body: unknown,
): { ok: true; payment: C2bPayment } | { ok: false; problem: string } {
  const parsed = C2bPayload.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}` };
  }
  const value = parsed.data;
  const [shillings = '0', fraction = ''] = value.TransAmount.split('.');
  return {
    ok: true,
    payment: {
      transId: value.TransID,
      transTime: value.TransTime,
      amountCents: Number(shillings) * 100 + Number(fraction.padEnd(2, '0')),
      shortcode: value.BusinessShortCode,
      billRefNumber: value.BillRefNumber ?? '',
      msisdn: value.MSISDN,
      firstName: value.FirstName ?? '',
      transactionType: value.TransactionType,
    },
  };
}

/** The answer to a validation request: accept, or reject with one of Daraja's codes. */
export const C2B_VALIDATION_RESULTS = {
  accepted: { ResultCode: '0', ResultDesc: 'Accepted' },
  invalidMsisdn: { ResultCode: 'C2B00011', ResultDesc: 'Rejected' },
  invalidAccountNumber: { ResultCode: 'C2B00012', ResultDesc: 'Rejected' },
  invalidAmount: { ResultCode: 'C2B00013', ResultDesc: 'Rejected' },
  invalidKyc: { ResultCode: 'C2B00014', ResultDesc: 'Rejected' },
  invalidShortcode: { ResultCode: 'C2B00015', ResultDesc: 'Rejected' },
  otherError: { ResultCode: 'C2B00016', ResultDesc: 'Rejected' },
} as const;

export const C2bValidationAnswer = z.object({
  ResultCode: z.union([z.string(), z.number()]).transform(String),
  ResultDesc: z.string().optional(),
});
