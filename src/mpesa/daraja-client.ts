import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { request } from 'undici';
import { AppError, serviceUnavailable, unprocessable } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import {
  isBeingProcessed,
  isInvalidToken,
  toDarajaProblem,
  type DarajaErrorBody,
} from './daraja-errors.js';
import { forbiddenUrlWord, type C2bRegistration } from './c2b-wire.js';
import { darajaTimestamp, stkPassword } from './daraja-time.js';
import { SharedTokenCache, type FetchedToken } from './token-cache.js';

/**
 * One Daraja app's settings: the platform's (config.mpesa) or a business's own credentials
 * and shortcode. Each credential set gets its own shared token (keyed by host and key).
 */
export interface DarajaSettings {
  baseUrl: string;
  consumerKey: string;
  consumerSecret: string;
  shortcode: string;
  passkey: string;
  transactionType: 'till' | 'paybill';
  /** PayBill: the shortcode itself. Till: the till number. */
  partyB: string;
  httpTimeoutMs: number;
}
/** Kept for callers that name the platform's settings so. */
export type MpesaConfig = DarajaSettings;

export interface C2bRegisterParams {
  /** Defaults to the settings' shortcode. */
  shortcode?: string;
  responseType: C2bRegistration['ResponseType'];
  confirmationUrl: string;
  validationUrl: string;
}

export interface C2bRegisterAck {
  originatorConversationId: string;
  responseDescription: string;
}

export interface StkPushParams {
  amountCents: number;
  phoneNumber: string;
  callbackUrl: string;
  accountReference: string;
  transactionDesc: string;
}

export interface StkPushAck {
  MerchantRequestID: string;
  CheckoutRequestID: string;
  ResponseCode: string;
  ResponseDescription?: string;
  CustomerMessage?: string;
}

export type StkQueryAnswer =
  { state: 'pending' } | { state: 'final'; resultCode: string; resultDesc: string };

interface DarajaResponse {
  status: number;
  body: (DarajaErrorBody & Record<string, unknown>) | undefined;
}

/**
 * A thin typed Daraja client: OAuth (shared token), STK push and STK push query, each call
 * bounded by MPESA_HTTP_TIMEOUT_MS. Errors come out as AppErrors (daraja-errors.ts).
 */
export class DarajaClient {
  readonly tokens: SharedTokenCache;

  constructor(
    private readonly config: DarajaSettings,
    redis: Redis,
    redisPrefix: string,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    const app = createHash('sha256')
      .update(`${config.baseUrl}\n${config.consumerKey}`)
      .digest('hex')
      .slice(0, 16);
    this.tokens = new SharedTokenCache(redis, `${redisPrefix}:mpesa:token:${app}`, () =>
      this.fetchToken(),
    );
  }

  /** GET /oauth/v1/generate with Basic auth; `expires_in` arrives as a string ("3599"). */
  async fetchToken(): Promise<FetchedToken> {
    const basic = Buffer.from(`${this.config.consumerKey}:${this.config.consumerSecret}`).toString(
      'base64',
    );
    const response = await this.send('GET', '/oauth/v1/generate?grant_type=client_credentials', {
      authorization: `Basic ${basic}`,
    });
    const token = response.body?.access_token;
    const expiresIn = Number(response.body?.expires_in);
    if (response.status !== 200 || typeof token !== 'string' || !Number.isFinite(expiresIn)) {
      this.logger.error(
        { status: response.status, errorCode: response.body?.errorCode },
        'Daraja refused the OAuth request',
      );
      throw toDarajaProblem(response.status >= 500 ? response.status : 401, response.body);
    }
    return { accessToken: token, expiresInSeconds: expiresIn };
  }

  /** M-Pesa Express: prompts the phone to pay. Accepted is not paid. */
  async stkPush(params: StkPushParams): Promise<StkPushAck> {
    if (params.amountCents % 100 !== 0) throw new Error('M-Pesa amounts are whole shillings');
    const timestamp = darajaTimestamp(this.clock());
    const { shortcode, passkey, transactionType, partyB } = this.config;
    const response = await this.authorized('/mpesa/stkpush/v1/processrequest', {
      BusinessShortCode: shortcode,
      Password: stkPassword(shortcode, passkey, timestamp),
      Timestamp: timestamp,
      TransactionType:
        transactionType === 'till' ? 'CustomerBuyGoodsOnline' : 'CustomerPayBillOnline',
      Amount: params.amountCents / 100,
      PartyA: params.phoneNumber,
      PartyB: partyB,
      PhoneNumber: params.phoneNumber,
      CallBackURL: params.callbackUrl,
      AccountReference: params.accountReference.slice(0, 12),
      TransactionDesc: params.transactionDesc.slice(0, 13),
    });
    const body = response.body;
    if (
      response.status === 200 &&
      body?.ResponseCode === '0' &&
      typeof body.CheckoutRequestID === 'string' &&
      typeof body.MerchantRequestID === 'string'
    ) {
      return body as unknown as StkPushAck;
    }
    throw this.refused('STK push', response);
  }

  /** STK push query: an error body "being processed" while the customer has not answered. */
  async stkQuery(checkoutRequestId: string): Promise<StkQueryAnswer> {
    const timestamp = darajaTimestamp(this.clock());
    const { shortcode, passkey } = this.config;
    const response = await this.authorized('/mpesa/stkpushquery/v1/query', {
      BusinessShortCode: shortcode,
      Password: stkPassword(shortcode, passkey, timestamp),
      Timestamp: timestamp,
      CheckoutRequestID: checkoutRequestId,
    });
    if (isBeingProcessed(response.body)) return { state: 'pending' };
    const resultCode = response.body?.ResultCode;
    if (
      response.status === 200 &&
      (typeof resultCode === 'string' || typeof resultCode === 'number')
    ) {
      const resultDesc = response.body?.ResultDesc;
      return {
        state: 'final',
        resultCode: String(resultCode),
        resultDesc: typeof resultDesc === 'string' ? resultDesc : '',
      };
    }
    throw this.refused('STK query', response);
  }

  /**
   * C2B Register URL (v1): where Safaricom sends the validation and confirmation requests
   * of payments into the shortcode. URLs with a word Daraja refuses never leave here.
   */
  async registerC2bUrls(params: C2bRegisterParams): Promise<C2bRegisterAck> {
    for (const url of [params.confirmationUrl, params.validationUrl]) {
      const word = forbiddenUrlWord(url);
      if (word) throw unprocessable(`M-Pesa refuses callback URLs containing "${word}"`);
    }
    const registration: C2bRegistration = {
      ShortCode: params.shortcode ?? this.config.shortcode,
      ResponseType: params.responseType,
      ConfirmationURL: params.confirmationUrl,
      ValidationURL: params.validationUrl,
    };
    const response = await this.authorized('/mpesa/c2b/v1/registerurl', registration);
    const body = response.body;
    if (response.status === 200 && body?.ResponseCode === '0') {
      // Daraja spells it "OriginatorCoversationID".
      const id = body.OriginatorCoversationID ?? body.OriginatorConversationID;
      return {
        originatorConversationId: typeof id === 'string' ? id : '',
        responseDescription: body.ResponseDescription ?? '',
      };
    }
    throw this.refused('C2B Register URL', response, 'the C2B URL registration');
  }

  /** One call with the shared token; a 404.001.03 refreshes it once and retries once. */
  private async authorized(path: string, payload: unknown): Promise<DarajaResponse> {
    const token = await this.tokens.get();
    const first = await this.send('POST', path, { authorization: `Bearer ${token}` }, payload);
    if (!isInvalidToken(first.status, first.body)) return first;
    this.logger.info({ path }, 'Daraja refused the cached token; refreshing it once');
    await this.tokens.invalidate(token);
    const fresh = await this.tokens.get();
    return this.send('POST', path, { authorization: `Bearer ${fresh}` }, payload);
  }

  private refused(operation: string, response: DarajaResponse, what?: string): AppError {
    const problem = toDarajaProblem(response.status, response.body, what);
    this.logger.warn(
      {
        operation,
        status: response.status,
        errorCode: response.body?.errorCode ?? response.body?.ResponseCode,
        errorMessage: response.body?.errorMessage ?? response.body?.ResponseDescription,
        problem: problem.code,
      },
      'Daraja refused the request',
    );
    return problem;
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    payload?: unknown,
  ): Promise<DarajaResponse> {
    const timeout = this.config.httpTimeoutMs;
    try {
      const response = await request(`${this.config.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: payload === undefined ? undefined : JSON.stringify(payload),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      const text = await response.body.text();
      return { status: response.statusCode, body: parseJson(text) };
    } catch (error) {
      if (error instanceof AppError) throw error;
      this.logger.warn(
        { path, err: { message: (error as Error).message } },
        'Daraja did not answer',
      );
      throw serviceUnavailable('M-Pesa did not answer in time; retry shortly', error);
    }
  }
}

function parseJson(text: string): DarajaResponse['body'] {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object'
      ? (value as DarajaResponse['body'])
      : undefined;
  } catch {
    return undefined;
  }
}
