import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request } from 'undici';
import { C2bValidationAnswer, forbiddenUrlWord } from '../c2b-wire.js';
import { darajaTimestamp } from '../daraja-time.js';
import { badRequest, text, type Json } from './wire.js';

export interface C2bRegistrationRecord {
  shortcode: string;
  responseType: 'Completed' | 'Cancelled';
  confirmationUrl: string;
  validationUrl: string;
  /** v2 sends the MSISDN hashed (SHA-256), v1 masked. */
  version: 'v1' | 'v2';
}

export interface C2bPayParams {
  shortcode: string;
  commandId: 'CustomerPayBillOnline' | 'CustomerBuyGoodsOnline';
  amount: number;
  msisdn: string;
  billRefNumber?: string;
}

export interface C2bTransaction extends C2bPayParams {
  transId: string;
  transTime: string;
  firstName: string;
  /** Validation: nothing registered, accepted, rejected (code), unreachable, or not enabled. */
  validation: 'not-registered' | 'accepted' | 'rejected' | 'unreachable' | 'disabled';
  validationResultCode?: string;
  /** Confirmation: delivered (HTTP status), failed to deliver, or not sent. */
  confirmation: 'delivered' | 'failed' | 'cancelled' | 'rejected' | 'not-registered';
  confirmationStatus?: number;
  payloads: { validation?: Json; confirmation?: Json };
}

const NAMES = ['Wanjiru', 'Otieno', 'Achieng', 'Kamau', 'Njeri', 'Mwangi', 'Akinyi', 'Kiprop'];
const COMMANDS = ['CustomerPayBillOnline', 'CustomerBuyGoodsOnline'];

/**
 * Daraja's C2B side: Register URL per shortcode, and a customer paying a till or paybill:
 * the validation request first (when a validation URL is registered; an unreachable one is
 * settled by the registration's ResponseType), then the confirmation.
 */
export class C2bDesk {
  readonly registrations = new Map<string, C2bRegistrationRecord>();
  readonly transactions = new Map<string, C2bTransaction>();
  private readonly balances = new Map<string, number>();

  constructor(
    private readonly options: {
      /** External validation is a per-shortcode option Safaricom switches on by request. */
      externalValidation: boolean;
      validationTimeoutMs: number;
      log: (message: string) => void;
    },
  ) {}

  /** `POST /mpesa/c2b/v{1,2}/registerurl` for an app owning `shortcodes`. */
  register(body: Json, shortcodes: Set<string>, version: 'v1' | 'v2'): [number, unknown] {
    const shortcode = text(body.ShortCode);
    if (!shortcodes.has(shortcode)) return [400, badRequest('ShortCode')];
    const responseType = text(body.ResponseType);
    if (responseType !== 'Completed' && responseType !== 'Cancelled')
      return [400, badRequest('ResponseType')];
    for (const field of ['ConfirmationURL', 'ValidationURL'] as const) {
      const url = text(body[field]);
      if (!/^https?:\/\/\S+$/.test(url) || forbiddenUrlWord(url)) return [400, badRequest(field)];
    }
    this.registrations.set(shortcode, {
      shortcode,
      responseType,
      confirmationUrl: text(body.ConfirmationURL),
      validationUrl: text(body.ValidationURL),
      version,
    });
    this.options.log(`C2B URLs registered for ${shortcode} (${responseType})`);
    return [
      200,
      { OriginatorCoversationID: randomUUID(), ResponseCode: '0', ResponseDescription: 'Success' },
    ];
  }

  /** `POST /mpesa/c2b/v1/simulate`: answers at once; `run` then notifies the shop. */
  simulate(
    body: Json,
    shortcodes: Set<string>,
  ): { answer: [number, unknown]; run?: () => Promise<C2bTransaction> } {
    const shortcode = text(body.ShortCode);
    if (!shortcodes.has(shortcode)) return { answer: [400, badRequest('ShortCode')] };
    const commandId = text(body.CommandID);
    if (!COMMANDS.includes(commandId)) return { answer: [400, badRequest('CommandID')] };
    const amount = Number(text(body.Amount));
    if (!Number.isInteger(amount) || amount < 1) return { answer: [400, badRequest('Amount')] };
    const msisdn = text(body.Msisdn);
    if (!/^254[17]\d{8}$/.test(msisdn)) return { answer: [400, badRequest('Msisdn')] };
    const billRefNumber = text(body.BillRefNumber);
    if (billRefNumber.length > 20) return { answer: [400, badRequest('BillRefNumber')] };
    const params = {
      shortcode,
      commandId: commandId as C2bPayParams['commandId'],
      amount,
      msisdn,
      billRefNumber,
    };
    return {
      answer: [
        200,
        {
          OriginatorCoversationID: randomUUID(),
          ResponseCode: '0',
          ResponseDescription: 'Accept the service request successfully.',
        },
      ],
      run: () => this.pay(params),
    };
  }

  /** A customer pays; resolves once validation and confirmation have been attempted. */
  async pay(params: C2bPayParams): Promise<C2bTransaction> {
    const now = new Date();
    const transaction: C2bTransaction = {
      ...params,
      transId: `T${randomBytes(5).toString('hex').toUpperCase().slice(0, 9)}`,
      transTime: darajaTimestamp(now),
      firstName: NAMES[Number(params.msisdn.slice(-1)) % NAMES.length] ?? 'John',
      validation: 'not-registered',
      confirmation: 'not-registered',
      payloads: {},
    };
    this.transactions.set(transaction.transId, transaction);
    const registration = this.registrations.get(params.shortcode);
    if (!registration) return transaction;

    transaction.payloads.validation = this.payload(transaction, registration, '');
    if (this.options.externalValidation) {
      const answered = await this.post(registration.validationUrl, transaction.payloads.validation);
      const parsed = C2bValidationAnswer.safeParse(answered.body);
      if (answered.status === 200 && parsed.success) {
        transaction.validationResultCode = parsed.data.ResultCode;
        transaction.validation = parsed.data.ResultCode === '0' ? 'accepted' : 'rejected';
      } else {
        transaction.validation = 'unreachable';
      }
    } else {
      transaction.validation = 'disabled';
    }
    if (transaction.validation === 'rejected') {
      transaction.confirmation = 'rejected';
      return transaction;
    }
    if (transaction.validation === 'unreachable' && registration.responseType === 'Cancelled') {
      transaction.confirmation = 'cancelled';
      return transaction;
    }
    const balance = (this.balances.get(params.shortcode) ?? 0) + params.amount;
    this.balances.set(params.shortcode, balance);
    transaction.payloads.confirmation = this.payload(transaction, registration, balance.toFixed(2));
    await this.confirm(transaction, registration);
    return transaction;
  }

  /** Sends a transaction's confirmation again (a duplicate delivery); returns the status. */
  async redeliver(transId: string): Promise<number | undefined> {
    const transaction = this.transactions.get(transId);
    const registration = transaction && this.registrations.get(transaction.shortcode);
    if (!transaction?.payloads.confirmation || !registration) {
      throw new Error(`no confirmed C2B transaction ${transId}`);
    }
    await this.confirm(transaction, registration);
    return transaction.confirmationStatus;
  }

  private async confirm(transaction: C2bTransaction, registration: C2bRegistrationRecord) {
    const answered = await this.post(
      registration.confirmationUrl,
      transaction.payloads.confirmation,
    );
    transaction.confirmation = answered.status === undefined ? 'failed' : 'delivered';
    transaction.confirmationStatus = answered.status;
    this.options.log(`C2B confirmation ${transaction.transId} → ${answered.status ?? 'failed'}`);
  }

  private payload(
    transaction: C2bTransaction,
    registration: C2bRegistrationRecord,
    balance: string,
  ): Json {
    const { msisdn } = transaction;
    return {
      TransactionType: transaction.commandId === 'CustomerPayBillOnline' ? 'Pay Bill' : 'Buy Goods',
      TransID: transaction.transId,
      TransTime: transaction.transTime,
      TransAmount: transaction.amount.toFixed(2),
      BusinessShortCode: transaction.shortcode,
      BillRefNumber: transaction.billRefNumber ?? '',
      InvoiceNumber: '',
      OrgAccountBalance: balance,
      ThirdPartyTransID: '',
      MSISDN:
        registration.version === 'v2'
          ? createHash('sha256').update(msisdn).digest('hex')
          : `${msisdn.slice(0, 4)} ***** ${msisdn.slice(-3)}`,
      FirstName: transaction.firstName,
      MiddleName: '',
      LastName: '',
    };
  }

  private async post(url: string, body: unknown): Promise<{ status?: number; body?: unknown }> {
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        headersTimeout: this.options.validationTimeoutMs,
        bodyTimeout: this.options.validationTimeoutMs,
        signal: AbortSignal.timeout(this.options.validationTimeoutMs),
      });
      const raw = await response.body.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, body: parsed };
    } catch (caught) {
      this.options.log(`C2B POST to ${url} failed: ${(caught as Error).message}`);
      return {};
    }
  }
}
