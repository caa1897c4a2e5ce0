import { request } from 'undici';
import type { z } from 'zod';
import type { Logger } from '../lib/logger.js';
import { SUCCESS } from './codes.js';
import { classifyAnswer, type EtimsOutcome } from './etims-errors.js';
import {
  DeviceVerificationData,
  DeviceVerificationReq,
  ItemSaveReq,
  OscuResponse,
  parseSaleSignature,
  StockIOSaveReq,
  StockMasterSaveReq,
  TrnsSalesSaveWrReq,
  type DeviceInfo,
  type TrnsSalesSaveWrResData,
} from './wire.js';

export interface EtimsClientOptions {
  /** `…/etims-api` of KRA's sandbox or production host (OSCU_HOSTS), or the simulator's. */
  baseUrl: string;
  /** One call's bound: an answer later than this is treated as lost (and retried). */
  timeoutMs: number;
  logger?: Logger;
}

/** A branch's OSCU identity after initialisation: sent as the `tin`/`bhfId`/`cmcKey` headers. */
export interface OscuCredentials {
  tin: string;
  bhfId: string;
  cmcKey: string;
}

type Sent<T> = EtimsOutcome<T>;

/**
 * The OSCU API functions this service uses, over HTTP (JSON POST to `<baseUrl>/<function>`).
 * Never throws for KRA's behaviour: every call comes back as an EtimsOutcome. A request that
 * fails our own copy of the spec's field rules is not sent: it is refused locally with the
 * spec's client-side code 893 ("error while Request Body data is created").
 */
export class EtimsClient {
  constructor(private readonly options: EtimsClientOptions) {}

  /** selectInitOsdcInfo: a branch's device initialisation; the answer holds the `cmcKey`. */
  async initializeDevice(input: DeviceVerificationReq): Promise<Sent<DeviceInfo>> {
    const outcome = await this.call('selectInitOsdcInfo', DeviceVerificationReq, input, {});
    return this.read(outcome, (data) => {
      const parsed = DeviceVerificationData.safeParse(data);
      return parsed.success ? parsed.data.info : undefined;
    });
  }

  /** saveItem: registers (or updates) an item. */
  saveItem(credentials: OscuCredentials, item: ItemSaveReq): Promise<Sent<null>> {
    return this.call('saveItem', ItemSaveReq, item, credentials).then(nothing);
  }

  /** saveTrnsSalesOsdc: a sale (`rcptTyCd` S) or a credit note (R); the answer is KRA's signature. */
  async saveSale(
    credentials: OscuCredentials,
    sale: TrnsSalesSaveWrReq,
  ): Promise<Sent<TrnsSalesSaveWrResData>> {
    const outcome = await this.call('saveTrnsSalesOsdc', TrnsSalesSaveWrReq, sale, credentials);
    return this.read(outcome, (data) => {
      const parsed = parseSaleSignature(data);
      return parsed.success ? parsed.data : undefined;
    });
  }

  /** insertStockIO: stock in/out, after the sale it comes from. */
  saveStockIo(credentials: OscuCredentials, io: StockIOSaveReq): Promise<Sent<null>> {
    return this.call('insertStockIO', StockIOSaveReq, io, credentials).then(nothing);
  }

  /** saveStockMaster: an item's remaining quantity, after its stock in/out. */
  saveStockMaster(credentials: OscuCredentials, master: StockMasterSaveReq): Promise<Sent<null>> {
    return this.call('saveStockMaster', StockMasterSaveReq, master, credentials).then(nothing);
  }

  /** A `000` whose data we cannot read is not a signature: retry (a repeat answers 994). */
  private read<T>(outcome: Sent<unknown>, parse: (data: unknown) => T | undefined): Sent<T> {
    if (outcome.kind !== 'success') return outcome;
    const data = parse(outcome.data);
    if (data !== undefined) return { ...outcome, data };
    return { kind: 'retryable', reason: 'unreadable', message: 'a 000 answer without its data' };
  }

  private async call<T>(
    name: string,
    schema: z.ZodType<T>,
    input: T,
    credentials: Partial<OscuCredentials>,
  ): Promise<Sent<unknown>> {
    const checked = schema.safeParse(input);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const detail = `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
      this.options.logger?.error({ function: name, detail }, 'eTIMS request fails the spec');
      return { kind: 'refused', resultCd: '893', resultMsg: `request not sent: ${detail}` };
    }
    const outcome = await this.send(name, checked.data, credentials);
    const level = outcome.kind === 'refused' ? 'warn' : 'info';
    this.options.logger?.[level](
      {
        function: name,
        outcome: outcome.kind,
        resultCd: 'resultCd' in outcome ? outcome.resultCd : undefined,
        status: 'status' in outcome ? outcome.status : undefined,
        invcNo: (input as { invcNo?: unknown }).invcNo,
      },
      'eTIMS call',
    );
    return outcome;
  }

  private async send(
    name: string,
    body: unknown,
    credentials: Partial<OscuCredentials>,
  ): Promise<Sent<unknown>> {
    const { baseUrl, timeoutMs } = this.options;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/json',
    };
    if (credentials.tin) headers.tin = credentials.tin;
    if (credentials.bhfId) headers.bhfId = credentials.bhfId;
    if (credentials.cmcKey) headers.cmcKey = credentials.cmcKey;
    let status: number;
    let text: string;
    try {
      const response = await request(`${baseUrl}/${name}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      const message = (error as Error).message;
      const timedOut = (error as Error).name === 'TimeoutError' || /timeout/i.test(message);
      return { kind: 'retryable', reason: timedOut ? 'timeout' : 'network', message };
    }
    const parsed = OscuResponse.safeParse(parseJson(text));
    if (!parsed.success) {
      if (status !== 200) return classifyAnswer(status, '', text.slice(0, 200), undefined);
      return { kind: 'retryable', reason: 'unreadable', status, message: 'not an OSCU answer' };
    }
    const { resultCd, resultMsg, data } = parsed.data;
    return classifyAnswer(status, resultCd, resultMsg ?? '', resultCd === SUCCESS ? data : null);
  }
}

const nothing = (outcome: Sent<unknown>): Sent<null> =>
  outcome.kind === 'success' ? { ...outcome, data: null } : outcome;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
