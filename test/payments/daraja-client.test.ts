import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors.js';
import { stkPassword } from '../../src/mpesa/daraja-time.js';
import { createMpesaProvider } from '../../src/mpesa/mpesa-provider.js';
import { startDarajaSimulator } from '../../src/mpesa/simulator/simulator.js';
import { createTestApp } from '../helpers/app.js';

const simulator = await startDarajaSimulator({ callbackDelayMs: 3_600_000 });
afterAll(() => simulator.close());
const env = { MPESA_ENV: 'simulator', MPESA_BASE_URL: simulator.url };
// Two API processes: separate pools, Redis connections and provider instances.
const processA = createTestApp({ env });
const processB = createTestApp({ env });
const providerA = createMpesaProvider(processA.deps);
const providerB = createMpesaProvider(processB.deps);

const pushParams = {
  amount: 10_000,
  phoneNumber: '254712345678',
  accountReference: 'INV-0001',
  description: 'Sale payment',
  callbackUrl: 'http://127.0.0.1:9/bv-payments/mpesa/callback/token',
};
const pushRequests = () =>
  simulator.requests.filter((request) => request.path === '/mpesa/stkpush/v1/processrequest')
    .length;

async function caught(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('OAuth token shared through Redis', () => {
  it('two processes asking at once make one Daraja call and share the token', async () => {
    const before = simulator.stats.tokenRequests;
    const tokens = await Promise.all([
      ...Array.from({ length: 5 }, () => providerA.client.tokens.get()),
      ...Array.from({ length: 5 }, () => providerB.client.tokens.get()),
    ]);
    expect(simulator.stats.tokenRequests - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    // Cached below Daraja's "3599" (a string) by the refresh margin.
    const keys = await processA.deps.redis.keys(`${processA.config.redis.prefix}:mpesa:token:*`);
    const ttl = await processA.deps.redis.ttl(keys.find((key) => !key.endsWith(':lock'))!);
    expect(ttl).toBeGreaterThan(3000);
    expect(ttl).toBeLessThanOrEqual(3599 - 60);
    // Later calls reuse it.
    await providerB.initiate(pushParams);
    expect(simulator.stats.tokenRequests - before).toBe(1);
  });

  it('a 404.001.03 invalid token triggers one refresh and one retry', async () => {
    await providerA.client.tokens.get();
    const tokensBefore = simulator.stats.tokenRequests;
    const pushesBefore = pushRequests();
    simulator.invalidateTokens(); // another app issued a token: ours is dead
    const ack = await providerA.initiate(pushParams);
    expect(ack.checkoutRequestId).toMatch(/^ws_CO_/);
    expect(simulator.stats.tokenRequests - tokensBefore).toBe(1);
    expect(pushRequests() - pushesBefore).toBe(2);
    // The other process picks up the refreshed token without another Daraja call.
    await providerB.initiate(pushParams);
    expect(simulator.stats.tokenRequests - tokensBefore).toBe(1);
  });

  it('refused again after the refresh: no loop, a 502 for the operator', async () => {
    await providerA.client.tokens.get();
    const tokensBefore = simulator.stats.tokenRequests;
    const pushesBefore = pushRequests();
    const invalid = {
      requestId: 'r',
      errorCode: '404.001.03',
      errorMessage: 'Invalid Access Token',
    };
    simulator.failNext('/mpesa/stkpush/v1/processrequest', 404, invalid);
    simulator.failNext('/mpesa/stkpush/v1/processrequest', 404, invalid);
    const error = await caught(providerA.initiate(pushParams));
    expect(error.code).toBe('BAD_GATEWAY');
    expect(simulator.stats.tokenRequests - tokensBefore).toBe(1);
    expect(pushRequests() - pushesBefore).toBe(2);
  });

  it('wrong consumer credentials → 502, not retried forever', async () => {
    const wrong = createTestApp({
      env: { ...env, MPESA_CONSUMER_KEY: 'nope', MPESA_CONSUMER_SECRET: 'nope' },
    });
    const error = await caught(createMpesaProvider(wrong.deps).initiate(pushParams));
    expect(error.code).toBe('BAD_GATEWAY');
  });
});

describe('STK push and query', () => {
  it('sends the Password of shortcode + passkey + EAT timestamp', async () => {
    await providerA.initiate(pushParams);
    const body = simulator.requests
      .filter((r) => r.path === '/mpesa/stkpush/v1/processrequest')
      .at(-1)!.body;
    const timestamp = String(body.Timestamp);
    expect(timestamp).toMatch(/^\d{14}$/);
    expect(body.Password).toBe(stkPassword('174379', processA.config.mpesa.passkey, timestamp));
    expect(body).toMatchObject({
      Amount: 100,
      PartyA: '254712345678',
      PhoneNumber: '254712345678',
    });
  });

  it('the query says pending while the customer has not answered, then the result', async () => {
    simulator.options.callbackDelayMs = 200;
    const ack = await providerA.initiate({ ...pushParams, phoneNumber: '254700000002' });
    simulator.options.callbackDelayMs = 3_600_000;
    expect(await providerA.query(ack.checkoutRequestId)).toEqual({ state: 'pending' });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await providerB.query(ack.checkoutRequestId)).toEqual({
      state: 'final',
      outcome: 'cancelled',
      resultCode: 1032,
      resultDesc: 'Request cancelled by user',
    });
  });

  it('maps Daraja errors to problem codes with the right retryable flag', async () => {
    const cases: [number, Record<string, string>, string, boolean][] = [
      [
        500,
        {
          errorCode: '500.001.1001',
          errorMessage:
            'Unable to lock subscriber, a transaction is already in process for the current subscriber',
        },
        'SERVICE_UNAVAILABLE',
        true,
      ],
      [
        500,
        { errorCode: '500.003.02', errorMessage: 'Spike Arrest Violation' },
        'SERVICE_UNAVAILABLE',
        true,
      ],
      [
        500,
        { errorCode: '500.003.03', errorMessage: 'Quota Violation' },
        'SERVICE_UNAVAILABLE',
        true,
      ],
      [503, {}, 'SERVICE_UNAVAILABLE', true],
      [
        400,
        { errorCode: '400.002.02', errorMessage: 'Bad Request - Invalid PhoneNumber' },
        'UNPROCESSABLE',
        false,
      ],
      [
        400,
        { errorCode: '400.002.02', errorMessage: 'Bad Request - Invalid Amount' },
        'UNPROCESSABLE',
        false,
      ],
      [500, { errorCode: '500.001.1001', errorMessage: 'Wrong credentials' }, 'BAD_GATEWAY', true],
      [200, { ResponseCode: '1', ResponseDescription: 'Rejected' }, 'UNPROCESSABLE', false],
    ];
    for (const [status, body, code, retryable] of cases) {
      simulator.failNext('/mpesa/stkpush/v1/processrequest', status, body);
      const error = await caught(providerA.initiate(pushParams));
      expect({ body, code: error.code, retryable: error.retryable }).toEqual({
        body,
        code,
        retryable,
      });
    }
    simulator.failNext('/mpesa/stkpushquery/v1/query', 500, {
      errorCode: '500.003.1001',
      errorMessage: 'Internal Server Error',
    });
    expect((await caught(providerA.query('ws_CO_x'))).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('a Daraja that never answers times out as a retryable 503', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const slow = createTestApp({
      env: {
        MPESA_ENV: 'simulator',
        MPESA_BASE_URL: `http://127.0.0.1:${port}`,
        MPESA_HTTP_TIMEOUT_MS: '300',
      },
    });
    try {
      const error = await caught(createMpesaProvider(slow.deps).client.fetchToken());
      expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('the simulator speaks Daraja', () => {
  const basic = `Basic ${Buffer.from('simulator-consumer-key:simulator-consumer-secret').toString('base64')}`;
  const getToken = async (authorization = basic) => {
    const response = await fetch(
      `${simulator.url}/oauth/v1/generate?grant_type=client_credentials`,
      {
        headers: { authorization },
      },
    );
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };
  const query = (token: string, body: Record<string, unknown>) =>
    fetch(`${simulator.url}/mpesa/stkpushquery/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (response) => ({ status: response.status, body: await response.json() }));

  it('issues string expires_in, refuses bad Basic auth, and a new token invalidates the old one', async () => {
    expect(await getToken('Basic bm9wZTpub3Bl')).toMatchObject({
      status: 400,
      body: { errorCode: '400.008.01' },
    });
    const first = await getToken();
    expect(first).toMatchObject({ status: 200, body: { expires_in: '3599' } });
    const second = await getToken();
    const timestamp = '20260101120000';
    const body = {
      BusinessShortCode: '174379',
      Password: stkPassword('174379', processA.config.mpesa.passkey, timestamp),
      Timestamp: timestamp,
      CheckoutRequestID: 'ws_CO_unknown',
    };
    expect(await query(first.body.access_token!, body)).toMatchObject({
      status: 404,
      body: { errorCode: '404.001.03', errorMessage: 'Invalid Access Token' },
    });
    expect(await query(second.body.access_token!, body)).toMatchObject({
      status: 400,
      body: { errorCode: '400.002.02' },
    });
    expect(await query(second.body.access_token!, { ...body, Password: 'd3Jvbmc=' })).toMatchObject(
      {
        status: 500,
        body: { errorCode: '500.001.1001', errorMessage: 'Wrong credentials' },
      },
    );
    // Our processes' shared token is dead now too; the next call recovers by itself.
    expect((await providerA.initiate(pushParams)).checkoutRequestId).toMatch(/^ws_CO_/);
  });
});
