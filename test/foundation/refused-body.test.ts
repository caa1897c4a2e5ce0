import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { listenForTest } from '../helpers/listen.js';
import { expectProblem } from '../helpers/problem.js';
import { postProduct } from '../helpers/catalog.js';

/*
 * API.md amendment "A refused body is an answer": real clients (Node's fetch streaming a
 * body, raw sockets for keep-alive and Expect) against the production listen().
 */
const { http, deps, app } = createTestApp();
const server = await listenForTest(app);
const slowServer = await listenForTest(app, { headersTimeoutMs: 300, requestTimeoutMs: 300 });
const shop = await createBusiness(deps);
const SIX_MB = 6 * 1024 * 1024;
/** A PNG signature and IHDR chunk: the upload is sniffed as an image, then found too large. */
const PNG_START = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489',
  'hex',
);

/** A body streamed in 64 KB chunks (no Content-Length: fetch sends it chunked). */
function streamOf(
  total: number,
  head: string | Uint8Array = '',
  tail = '',
): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20); // spaces: still "JSON in progress"
  return new ReadableStream({
    start(controller) {
      if (head.length > 0) {
        controller.enqueue(typeof head === 'string' ? new TextEncoder().encode(head) : head);
      }
    },
    pull(controller) {
      if (sent >= total) {
        if (tail) controller.enqueue(new TextEncoder().encode(tail));
        controller.close();
        return;
      }
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

async function expectFetchProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.headers.get('connection')).toBe('close');
  expect(await response.json()).toMatchObject({ status, code });
}

/** Writes `parts` to one connection and collects everything until the server closes it. */
function rawExchange(
  port: number,
  parts: (string | Buffer)[],
  onData?: (received: string, socket: net.Socket) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      onData?.(received, socket);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.on('connect', () => {
      for (const part of parts) socket.write(part);
    });
  });
}

const statusLines = (raw: string) => raw.match(/^HTTP\/1\.1 \d{3}[^\r]*/gm) ?? [];

describe('a refused body is an answer', () => {
  it("Node's fetch streaming 6 MB of JSON gets the 413 problem, not a broken pipe", async () => {
    const response = await fetch(`${server.baseUrl}/sales/sync`, {
      method: 'POST',
      headers: { authorization: shop.cashier.auth, 'content-type': 'application/json' },
      body: streamOf(SIX_MB, '{"sales":[', ']}'),
      duplex: 'half',
    });
    await expectFetchProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it("Node's fetch sending 6 MB with a Content-Length gets the 413 problem", async () => {
    const response = await fetch(`${server.baseUrl}/products`, {
      method: 'POST',
      headers: { authorization: shop.owner.auth, 'content-type': 'application/json' },
      body: Buffer.alloc(SIX_MB, 0x20),
    });
    await expectFetchProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it("Node's fetch streaming a 6 MB image upload gets the 413 problem", async () => {
    const product = await postProduct(http, shop.owner);
    const boundary = `----bapi${randomUUID()}`;
    const response = await fetch(`${server.baseUrl}/products/${product.id}/image`, {
      method: 'POST',
      headers: {
        authorization: shop.owner.auth,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body: streamOf(
        SIX_MB,
        Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
          ),
          PNG_START,
        ]),
        `\r\n--${boundary}--\r\n`,
      ),
      duplex: 'half',
    });
    await expectFetchProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('an over-limit chunked body on a keep-alive connection is answered and the connection closed, not wedged', async () => {
    const chunk = ' '.repeat(256 * 1024);
    const body = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const raw = await rawExchange(server.port, [
      `POST /products HTTP/1.1\r\nHost: x\r\nAuthorization: ${shop.owner.auth}\r\n` +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n',
      ...body,
      '0\r\n\r\n',
      // A following request on the same socket: answered or refused by a close, never left hanging.
      'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
    ]);
    expect(statusLines(raw)[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(raw).toMatch(/\r\nConnection: close\r\n/i);
    expect(raw).toContain('"code":"PAYLOAD_TOO_LARGE"');
  });

  it('Expect: 100-continue with a too-large Content-Length → 413 without 100 Continue; within the limit → 100 then the answer', async () => {
    const head = (length: number) =>
      `POST /sales/sync HTTP/1.1\r\nHost: x\r\nAuthorization: ${shop.cashier.auth}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;
    const refused = await rawExchange(server.port, [head(SIX_MB)]);
    expect(statusLines(refused)).toEqual(['HTTP/1.1 413 Payload Too Large']);
    expect(refused).toContain('"code":"PAYLOAD_TOO_LARGE"');

    const body = '{"sales":[]}';
    let sentBody = false;
    const accepted = await rawExchange(
      server.port,
      [head(body.length).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')],
      (received, socket) => {
        if (!sentBody && received.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
          sentBody = true;
          socket.write(body);
        }
      },
    );
    expect(statusLines(accepted), accepted).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
    expect(accepted).toMatch(/\r\n\r\n\{"results":\[\]\}$/); // the body was read and answered
  });

  it("Node's own early refusals (431, 400 bad framing, 408) carry a problem+json body", async () => {
    const huge = await rawExchange(server.port, [
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`,
    ]);
    const badFraming = await rawExchange(server.port, [
      'POST /products HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello',
    ]);
    const slow = await rawExchange(slowServer.port, ['GET /health HTTP/1.1\r\nHost: x\r\n']);
    for (const [raw, status, code] of [
      [huge, 431, 'HEADERS_TOO_LARGE'],
      [badFraming, 400, 'BAD_REQUEST'],
      [slow, 408, 'REQUEST_TIMEOUT'],
    ] as const) {
      const [head, body = ''] = raw.split('\r\n\r\n');
      expect(head, raw).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(head).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
      const problem = JSON.parse(body) as Record<string, unknown>;
      expect(problem).toMatchObject({ status, code, type: expect.stringMatching(/^\/errors\//) });
      expect(head).toContain(`X-Request-Id: ${String(problem.requestId)}`);
    }
  });
});

it('supertest still sees 413 as before (the app itself, no listening server)', async () => {
  const response = await http
    .post('/products')
    .set('Authorization', shop.owner.auth)
    .set('Content-Type', 'application/json')
    .send(`{"pad":"${'x'.repeat(1024 * 1024)}"}`);
  expectProblem(response, 413, 'PAYLOAD_TOO_LARGE');
});
