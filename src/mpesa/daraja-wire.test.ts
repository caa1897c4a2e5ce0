import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { darajaTimestamp, stkPassword } from './daraja-time.js';
import { parseStkCallback } from './mpesa-provider.js';

describe('Daraja wire details', () => {
  it('timestamps are East Africa Time, and the password matches Daraja’s documented sample', () => {
    expect(darajaTimestamp(new Date('2021-06-28T06:24:08Z'))).toBe('20210628092408');
    expect(darajaTimestamp(new Date('2024-12-31T22:59:59.999Z'))).toBe('20250101015959');
    expect(
      stkPassword(
        '174379',
        'bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919',
        '20210628092408',
      ),
    ).toBe(
      'MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMjEwNjI4MDkyNDA4',
    );
  });

  it('parses callbacks: numbers, a Balance item without a Value, failures without metadata', () => {
    expect(
      parseStkCallback({
        Body: {
          stkCallback: {
            MerchantRequestID: '29115-34620561-1',
            CheckoutRequestID: 'ws_CO_191220191020363925',
            ResultCode: 0,
            ResultDesc: 'The service request is processed successfully.',
            CallbackMetadata: {
              Item: [
                { Name: 'Amount', Value: 1.0 },
                { Name: 'MpesaReceiptNumber', Value: 'NLJ7RT61SV' },
                { Name: 'Balance' },
                { Name: 'TransactionDate', Value: 20191219102115 },
                { Name: 'PhoneNumber', Value: 254708374149 },
              ],
            },
          },
        },
      }),
    ).toEqual({
      outcome: 'succeeded',
      resultCode: 0,
      resultDesc: 'The service request is processed successfully.',
      checkoutRequestId: 'ws_CO_191220191020363925',
      merchantRequestId: '29115-34620561-1',
      amount: 100,
      receiptNumber: 'NLJ7RT61SV',
      phoneNumber: '254708374149',
    });
    expect(
      parseStkCallback({
        Body: {
          stkCallback: {
            CheckoutRequestID: 'ws_CO_2',
            ResultCode: 1032,
            ResultDesc: 'Request cancelled by user',
          },
        },
      }),
    ).toMatchObject({ outcome: 'cancelled', resultCode: 1032, amount: null, receiptNumber: null });
    expect(
      parseStkCallback({
        Body: {
          stkCallback: { CheckoutRequestID: 'ws_CO_3', ResultCode: 'SFC_IC0003', ResultDesc: 'x' },
        },
      }),
    ).toMatchObject({ outcome: 'failed', resultCode: null, resultDesc: '[SFC_IC0003] x' });
    expect(() => parseStkCallback({ hello: 'world' })).toThrow();
  });
});

describe('configuration', () => {
  it('uses the simulator without credentials and the sandbox with them', () => {
    const base = { NODE_ENV: 'development' };
    expect(loadConfig(base).mpesa).toMatchObject({
      env: 'simulator',
      baseUrl: 'http://127.0.0.1:3090',
    });
    expect(
      loadConfig({ ...base, MPESA_CONSUMER_KEY: 'k', MPESA_CONSUMER_SECRET: 's' }).mpesa,
    ).toMatchObject({ env: 'sandbox', baseUrl: 'https://sandbox.safaricom.co.ke' });
    expect(() => loadConfig({ ...base, MPESA_ENV: 'sandbox' })).toThrow(/MPESA_CONSUMER_KEY/);
    expect(() => loadConfig({ ...base, PLAN_MONTHLY_PRICE: '150050' })).toThrow(
      /PLAN_MONTHLY_PRICE/,
    );
    expect(() =>
      loadConfig({ ...base, MPESA_CALLBACK_ALLOWLIST: '196.201.214.0/24, nonsense' }),
    ).toThrow(/MPESA_CALLBACK_ALLOWLIST/);
  });

  it('production refuses the simulator and missing Daraja credentials', () => {
    const production = {
      REDIS_URL: 'redis://127.0.0.1:6379',
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/pos',
      JWT_SECRET: 'prod-secret-0123456789-abcdefghijklmnopqrstuv',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false',
      WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    expect(() => loadConfig(production)).toThrow(/MPESA_PASSKEY/);
    expect(() => loadConfig(production)).toThrow(/MPESA_ENV: is required in production/);
    expect(() => loadConfig({ ...production, MPESA_ENV: 'simulator' })).toThrow(/MPESA_ENV/);
    const config = loadConfig({
      ...production,
      MPESA_ENV: 'production',
      MPESA_CONSUMER_KEY: 'key',
      MPESA_CONSUMER_SECRET: 'secret',
      MPESA_SHORTCODE: '600123',
      MPESA_PASSKEY: 'passkey',
    });
    expect(config.mpesa).toMatchObject({
      baseUrl: 'https://api.safaricom.co.ke',
      shortcode: '600123',
      partyB: '600123',
    });
  });
});
