import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors.js';
import { C2B_VALIDATION_RESULTS, parseC2bPayload } from '../../src/mpesa/c2b-wire.js';
import { DarajaClient, type DarajaSettings } from '../../src/mpesa/daraja-client.js';
import { startDarajaSimulator } from '../../src/mpesa/simulator/simulator.js';
import { createTestApp } from '../helpers/app.js';

// Daraja C2B in the simulator and the client, over HTTP: Register URL with per-credential
// tokens, then customers paying the till with validation and confirmation requests.
const simulator = await startDarajaSimulator({ c2bValidationTimeoutMs: 300 });
const { deps, config } = createTestApp({
  env: { MPESA_ENV: 'simulator', MPESA_BASE_URL: simulator.url },
});
const platform = new DarajaClient(
  config.mpesa,
  deps.redis,
  config.redis.prefix,
  deps.logger,
  deps.clock,
);
const shopSettings: DarajaSettings = {
  ...config.mpesa,
  consumerKey: 'shop-key',
  consumerSecret: 'shop-secret',
  shortcode: '600100',
  passkey: 'shop-passkey',
  transactionType: 'till',
  partyB: '600100',
};
simulator.addApp(shopSettings);
const shop = new DarajaClient(
  shopSettings,
  deps.redis,
  config.redis.prefix,
  deps.logger,
  deps.clock,
);

interface Received {
  path: string;
  body: Record<string, unknown>;
}
/** The shop's callback endpoints: `answer` decides the validation reply. */
async function startShop(answer: (path: string) => [number, unknown] | 'hang') {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, body: JSON.parse(raw) });
      const reply = answer(path);
      if (reply === 'hang') return;
      res.writeHead(reply[0], { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply[1]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url, received };
}
afterAll(() => simulator.close());

const accepted: [number, unknown] = [200, C2B_VALIDATION_RESULTS.accepted];
const shopEndpoints = await startShop(() => accepted);
const urls = (base: string) => ({
  confirmationUrl: `${base}/bv-payments/callbacks/c2b/t0k3n/confirmation`,
  validationUrl: `${base}/bv-payments/callbacks/c2b/t0k3n/validation`,
});

async function caught(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('C2B Register URL', () => {
  it('registers per shortcode with each credential set’s own token (one OAuth call each)', async () => {
    const before = simulator.stats.tokenRequests;
    const acks = await Promise.all([
      ...Array.from({ length: 4 }, () =>
        platform.registerC2bUrls({ responseType: 'Completed', ...urls(shopEndpoints.url) }),
      ),
      ...Array.from({ length: 4 }, () =>
        shop.registerC2bUrls({ responseType: 'Cancelled', ...urls(shopEndpoints.url) }),
      ),
    ]);
    expect(acks[0]).toEqual({
      originatorConversationId: expect.any(String),
      responseDescription: 'Success',
    });
    expect(simulator.stats.tokenRequests - before).toBe(2);
    expect(simulator.c2b.registrations.get('174379')?.responseType).toBe('Completed');
    expect(simulator.c2b.registrations.get('600100')).toMatchObject({
      responseType: 'Cancelled',
      version: 'v1',
      confirmationUrl: urls(shopEndpoints.url).confirmationUrl,
    });
    expect(simulator.requests.at(-1)?.body).toEqual({
      ShortCode: '600100',
      ResponseType: 'Cancelled',
      ...{ ConfirmationURL: urls(shopEndpoints.url).confirmationUrl },
      ValidationURL: urls(shopEndpoints.url).validationUrl,
    });
  });

  it('an app cannot register another app’s shortcode; a refused token refreshes only its own', async () => {
    const error = await caught(
      shop.registerC2bUrls({
        shortcode: '174379',
        responseType: 'Completed',
        ...urls(shopEndpoints.url),
      }),
    );
    expect(error.code).toBe('UNPROCESSABLE');
    expect(error.message).toContain('C2B URL registration');
    const platformToken = await platform.tokens.get();
    const before = simulator.stats.tokenRequests;
    simulator.invalidateTokens(); // Daraja answers 404.001.03 to the cached tokens
    await shop.registerC2bUrls({ responseType: 'Completed', ...urls(shopEndpoints.url) });
    expect(simulator.stats.tokenRequests - before).toBe(1);
    // The platform's cached token is another credential set's: untouched.
    expect(await platform.tokens.get()).toBe(platformToken);
  });

  it('URLs with a word Daraja refuses never leave; the simulator refuses them too', async () => {
    const sent = simulator.requests.length;
    const error = await caught(
      shop.registerC2bUrls({
        responseType: 'Completed',
        confirmationUrl: 'https://shop.example/mpesa/confirm',
        validationUrl: 'https://shop.example/ok',
      }),
    );
    expect(error.code).toBe('UNPROCESSABLE');
    expect(simulator.requests.length).toBe(sent);
    const token = await shop.tokens.get();
    const response = await request(`${simulator.url}/mpesa/c2b/v1/registerurl`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ShortCode: '600100',
        ResponseType: 'Completed',
        ConfirmationURL: 'https://shop.example/run.EXE',
        ValidationURL: 'https://shop.example/ok',
      }),
    });
    expect(response.statusCode).toBe(400);
    expect(await response.body.json()).toMatchObject({
      errorMessage: 'Bad Request - Invalid ConfirmationURL',
    });
  });
});

describe('C2B payments (simulate)', () => {
  async function simulateOverHttp(body: Record<string, unknown>) {
    const token = await shop.tokens.get();
    const response = await request(`${simulator.url}/mpesa/c2b/v1/simulate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.statusCode,
      body: (await response.body.json()) as Record<string, unknown>,
    };
  }
  async function confirmations(endpoints: { received: Received[] }, transId: string) {
    for (let i = 0; i < 100; i += 1) {
      const found = endpoints.received.filter(
        (r) => r.path.endsWith('/confirmation') && r.body.TransID === transId,
      );
      if (found.length > 0) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return [];
  }

  it('simulate answers at once, then validation and confirmation arrive in Daraja’s format', async () => {
    await shop.registerC2bUrls({ responseType: 'Completed', ...urls(shopEndpoints.url) });
    const ack = await simulateOverHttp({
      ShortCode: '600100',
      CommandID: 'CustomerPayBillOnline',
      Amount: 250,
      Msisdn: '254712345678',
      BillRefNumber: 'INV-42',
    });
    expect(ack).toEqual({
      status: 200,
      body: {
        OriginatorCoversationID: expect.any(String),
        ResponseCode: '0',
        ResponseDescription: 'Accept the service request successfully.',
      },
    });
    const transaction = [...simulator.c2b.transactions.values()].at(-1)!;
    const [confirmation] = await confirmations(shopEndpoints, transaction.transId);
    const validation = shopEndpoints.received.find(
      (r) => r.path.endsWith('/validation') && r.body.TransID === transaction.transId,
    );
    expect(validation?.body).toMatchObject({ OrgAccountBalance: '', TransAmount: '250.00' });
    expect(confirmation?.body).toEqual({
      TransactionType: 'Pay Bill',
      TransID: expect.stringMatching(/^[A-Z0-9]{10}$/),
      TransTime: expect.stringMatching(/^\d{14}$/),
      TransAmount: '250.00',
      BusinessShortCode: '600100',
      BillRefNumber: 'INV-42',
      InvoiceNumber: '',
      OrgAccountBalance: expect.stringMatching(/^\d+\.\d{2}$/),
      ThirdPartyTransID: '',
      MSISDN: '2547 ***** 678',
      FirstName: expect.any(String),
      MiddleName: '',
      LastName: '',
    });
    const parsed = parseC2bPayload(confirmation?.body);
    expect(parsed).toMatchObject({
      ok: true,
      payment: {
        amountCents: 25_000,
        shortcode: '600100',
        billRefNumber: 'INV-42',
        msisdn: '2547 ***** 678',
      },
    });
  });

  it('a validation rejection cancels the payment: no confirmation', async () => {
    const rejecting = await startShop((path) =>
      path.endsWith('/validation') ? [200, C2B_VALIDATION_RESULTS.invalidAccountNumber] : accepted,
    );
    await shop.registerC2bUrls({ responseType: 'Completed', ...urls(rejecting.url) });
    const transaction = await simulator.payC2b({
      shortcode: '600100',
      commandId: 'CustomerPayBillOnline',
      amount: 100,
      msisdn: '254712345670',
      billRefNumber: 'NOPE',
    });
    expect(transaction).toMatchObject({
      validation: 'rejected',
      validationResultCode: 'C2B00012',
      confirmation: 'rejected',
    });
    expect(rejecting.received.map((r) => r.path.split('/').at(-1))).toEqual(['validation']);
  });

  it('an unreachable validation URL: Completed confirms anyway, Cancelled does not', async () => {
    const silent = await startShop((path) => (path.endsWith('/validation') ? 'hang' : accepted));
    await shop.registerC2bUrls({ responseType: 'Completed', ...urls(silent.url) });
    const pay = () =>
      simulator.payC2b({
        shortcode: '600100',
        commandId: 'CustomerBuyGoodsOnline',
        amount: 80,
        msisdn: '254112345671',
      });
    const completed = await pay();
    expect(completed).toMatchObject({
      validation: 'unreachable',
      confirmation: 'delivered',
      confirmationStatus: 200,
    });
    expect(completed.payloads.confirmation).toMatchObject({
      TransactionType: 'Buy Goods',
      BillRefNumber: '',
    });
    await shop.registerC2bUrls({ responseType: 'Cancelled', ...urls(silent.url) });
    const cancelled = await pay();
    expect(cancelled).toMatchObject({ validation: 'unreachable', confirmation: 'cancelled' });
    const confirmed = silent.received
      .filter((r) => r.path.endsWith('/confirmation'))
      .map((r) => r.body.TransID);
    expect(confirmed).toEqual([completed.transId]);
  });

  it('v2 registration hashes the MSISDN; a redelivered confirmation repeats the same TransID', async () => {
    const token = await shop.tokens.get();
    const response = await request(`${simulator.url}/mpesa/c2b/v2/registerurl`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ShortCode: '600100',
        ResponseType: 'Completed',
        ...{
          ConfirmationURL: urls(shopEndpoints.url).confirmationUrl,
          ValidationURL: urls(shopEndpoints.url).validationUrl,
        },
      }),
    });
    expect(response.statusCode).toBe(200);
    await response.body.text();
    const paid = await simulator.payC2b({
      shortcode: '600100',
      commandId: 'CustomerPayBillOnline',
      amount: 5,
      msisdn: '254712345678',
      billRefNumber: 'A1',
    });
    expect(paid.payloads.confirmation?.MSISDN).toMatch(/^[0-9a-f]{64}$/);
    await simulator.c2b.redeliver(paid.transId);
    expect(await confirmations(shopEndpoints, paid.transId)).toHaveLength(2);
  });

  it('simulate refuses bad input in Daraja’s error format', async () => {
    const base = {
      ShortCode: '600100',
      CommandID: 'CustomerPayBillOnline',
      Amount: 10,
      Msisdn: '254712345678',
      BillRefNumber: 'X',
    };
    for (const [field, value] of [
      ['ShortCode', '174379'],
      ['CommandID', 'SalaryPayment'],
      ['Amount', 0],
      ['Amount', 10.5],
      ['Msisdn', '0712345678'],
      ['BillRefNumber', 'x'.repeat(21)],
    ] as const) {
      const answer = await simulateOverHttp({ ...base, [field]: value });
      expect(answer.status, `${field}=${value}`).toBe(400);
      expect(answer.body).toMatchObject({
        errorCode: '400.002.02',
        errorMessage: `Bad Request - Invalid ${field}`,
      });
    }
  });
});

describe('C2B payload schema', () => {
  it('reads amounts as cents, tolerates numbers, refuses malformed payloads', () => {
    const good = {
      TransactionType: 'Pay Bill',
      TransID: 'RKTQDM7W6S',
      TransTime: '20191122063845',
      TransAmount: '10.5',
      BusinessShortCode: 600638,
      BillRefNumber: 'invoice008',
      InvoiceNumber: '',
      OrgAccountBalance: '',
      ThirdPartyTransID: '',
      MSISDN: '25470****149',
      FirstName: 'John',
      MiddleName: '',
      LastName: 'Doe',
    };
    expect(parseC2bPayload(good)).toMatchObject({
      ok: true,
      payment: { amountCents: 1050, shortcode: '600638' },
    });
    expect(parseC2bPayload({ ...good, TransAmount: 99 })).toMatchObject({
      ok: true,
      payment: { amountCents: 9900 },
    });
    for (const bad of [
      { ...good, TransID: 'rk<script>' },
      { ...good, TransAmount: '-5' },
      { ...good, TransAmount: '1.234' },
      { ...good, TransTime: '2019-11-22' },
      { ...good, BusinessShortCode: 'abc' },
      { ...good, FirstName: 'x'.repeat(101) },
      { TransID: 'RKTQDM7W6S' },
      'not an object',
    ]) {
      expect(parseC2bPayload(bad).ok).toBe(false);
    }
  });
});
