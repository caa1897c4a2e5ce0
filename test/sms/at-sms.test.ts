import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AtSmsClient } from '../../src/sms/at-client.js';
import { parseDeliveryReport } from '../../src/sms/at-wire.js';
import { smsParts, startSmsSimulator } from '../../src/sms/simulator/simulator.js';

// Africa's Talking SMS: the client against the simulator over HTTP, delivery reports to a
// real local receiver.
const reports: { body: string }[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    reports.push({ body });
    res.end('OK');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/sms/delivery`;

const simulator = await startSmsSimulator({
  username: 'duka',
  apiKey: 'at-key-123',
  senderIds: ['DUKA'],
  deliveryReportUrl: receiverUrl,
  deliveryDelayMs: 10,
});
afterAll(async () => {
  await simulator.close();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const logLines: string[] = [];
const logger = pino(
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
);
const settings = {
  baseUrl: simulator.url,
  username: 'duka',
  apiKey: 'at-key-123',
  senderId: 'DUKA',
  timeoutMs: 300,
  logger,
};
const client = new AtSmsClient(settings);

beforeEach(() => simulator.setMode({ kind: 'normal' }));

async function reportFor(messageId: string) {
  for (let i = 0; i < 100; i += 1) {
    const found = reports.find((r) => r.body.includes(messageId));
    if (found) return parseDeliveryReport(found.body);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no delivery report for ${messageId}`);
}

describe('Africa’s Talking SMS over HTTP', () => {
  it('sends in AT’s wire format, normalising the number; the delivery report follows', async () => {
    const outcome = await client.send('0712 345 678', 'Asante! Receipt S-0001: KES 350.00');
    expect(outcome).toEqual({
      kind: 'accepted',
      messageId: expect.stringMatching(/^ATXid_[0-9a-f]{32}$/),
      statusCode: 101,
      status: 'Sent',
      cost: 'KES 0.8000',
    });
    expect(simulator.messages.at(-1)).toMatchObject({
      to: '+254712345678',
      from: 'DUKA',
      message: 'Asante! Receipt S-0001: KES 350.00',
    });
    if (outcome.kind !== 'accepted') throw new Error('unreachable');
    expect(await reportFor(outcome.messageId)).toEqual({
      ok: true,
      report: {
        id: outcome.messageId,
        status: 'Success',
        phoneNumber: '+254712345678',
        networkCode: '63902',
        retryCount: 0,
        final: true,
      },
    });
  });

  it('a phone that cannot be reached: Failed with its failureReason', async () => {
    const outcome = await client.send('+254799000002', 'Your balance is KES 1,200');
    if (outcome.kind !== 'accepted') throw new Error(`expected accepted: ${outcome.kind}`);
    expect(await reportFor(outcome.messageId)).toMatchObject({
      ok: true,
      report: { status: 'Failed', failureReason: 'AbsentSubscriber', final: true },
    });
    // A report sent again (AT retries its callback) carries the same id.
    expect(
      await simulator.sendDeliveryReport(outcome.messageId, { status: 'Buffered', retryCount: 1 }),
    ).toBe(200);
  });

  it('per-recipient codes: holds retry, refusals are final', async () => {
    expect(await client.send('+254799000405', 'x')).toMatchObject({
      kind: 'retryable',
      reason: 'recipient',
      statusCode: 405,
      message: 'InsufficientBalance',
    });
    expect(await client.send('+254799000500', 'x')).toMatchObject({
      kind: 'retryable',
      statusCode: 500,
    });
    expect(await client.send('+254799000406', 'x')).toMatchObject({
      kind: 'refused',
      statusCode: 406,
      message: 'UserInBlacklist',
    });
    expect(await client.send('+254799000409', 'x')).toMatchObject({
      kind: 'refused',
      statusCode: 409,
    });
    const strangerSender = new AtSmsClient({ ...settings, senderId: 'OTHER' });
    expect(await strangerSender.send('0712345678', 'x')).toMatchObject({
      kind: 'refused',
      statusCode: 402,
      message: 'InvalidSenderId',
    });
    simulator.setMode({ kind: 'failing', statusCode: 501 });
    expect(await client.send('0712345678', 'x')).toMatchObject({
      kind: 'retryable',
      statusCode: 501,
    });
  });

  it('HTTP faults: bad credentials final, 5xx / slow / nobody listening retryable', async () => {
    const wrongKey = new AtSmsClient({ ...settings, apiKey: 'nope' });
    expect(await wrongKey.send('0712345678', 'x')).toEqual({
      kind: 'refused',
      httpStatus: 401,
      message: 'The supplied authentication is invalid',
    });
    simulator.setMode({ kind: 'down', status: 503 });
    expect(await client.send('0712345678', 'x')).toMatchObject({
      kind: 'retryable',
      reason: 'http',
      httpStatus: 503,
    });
    simulator.setMode({ kind: 'slow', delayMs: 2_000 });
    expect(await client.send('0712345678', 'x')).toMatchObject({
      kind: 'retryable',
      reason: 'timeout',
    });
    const nobody = new AtSmsClient({ ...settings, baseUrl: 'http://127.0.0.1:9' });
    expect(await nobody.send('0712345678', 'x')).toMatchObject({
      kind: 'retryable',
      reason: 'network',
    });
  });

  it('refuses locally (nothing sent) a non-Kenyan number or an over-long message', async () => {
    const before = simulator.messages.length;
    expect(await client.send('+1 202 555 0101', 'hi')).toMatchObject({ kind: 'refused' });
    expect(await client.send('0712345678', '')).toMatchObject({ kind: 'refused' });
    expect(await client.send('0712345678', 'x'.repeat(919))).toMatchObject({ kind: 'refused' });
    expect(simulator.messages.length).toBe(before);
  });

  it('log lines carry neither phone numbers nor message texts', () => {
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(5);
    for (const secret of ['712345678', '799000002', 'Asante', 'balance is']) {
      expect(all).not.toContain(secret);
    }
    expect(all).toContain('***678');
  });
});

describe('Africa’s Talking wire details', () => {
  it('delivery report forms: optional fields, malformed ones refused', () => {
    expect(
      parseDeliveryReport(
        'id=ATXid_1&status=Submitted&phoneNumber=%2B254712345678&networkCode=63902&failureReason=&retryCount=0',
      ),
    ).toMatchObject({ ok: true, report: { status: 'Submitted', final: false } });
    expect(
      parseDeliveryReport({ id: 'ATXid_1', status: 'Rejected', phoneNumber: '+2547' }),
    ).toMatchObject({
      ok: true,
      report: { final: true },
    });
    for (const bad of [
      'status=Success',
      'id=1&status=Success',
      `id=${'x'.repeat(200)}&status=S&phoneNumber=1`,
      'id=1&status=Success&phoneNumber=1&retryCount=-1',
    ]) {
      expect(parseDeliveryReport(bad).ok, bad).toBe(false);
    }
  });

  it('message parts: 160 GSM characters (153 split), 70 otherwise (67 split)', () => {
    expect(smsParts('x'.repeat(160))).toBe(1);
    expect(smsParts('x'.repeat(161))).toBe(2);
    expect(smsParts('x'.repeat(306))).toBe(2);
    expect(smsParts('✓'.repeat(70))).toBe(1);
    expect(smsParts('✓'.repeat(71))).toBe(2);
  });
});
