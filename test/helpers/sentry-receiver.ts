import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface SentryEnvelope {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: unknown }[];
  /** How the SDK authenticated: the X-Sentry-Auth header or the URL's `sentry_key`. */
  auth: string;
  raw: string;
}

export interface SentryReceiver {
  /** A DSN pointing here: project 1, public key `testkey`. */
  dsn: string;
  envelopes: SentryEnvelope[];
  /** Error events (envelope items of type `event`). */
  events: () => Record<string, unknown>[];
  close: () => Promise<void>;
}

/**
 * A real Sentry ingestion endpoint on 127.0.0.1: `POST /api/<project>/envelope/`, gzip or
 * plain, parsed by the envelope format (a header line, then item header + payload pairs,
 * the payload `length` bytes long when the item header says so, else one line).
 */
export async function startSentryReceiver(): Promise<SentryReceiver> {
  const envelopes: SentryEnvelope[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.method !== 'POST' || !/^\/api\/1\/envelope\/?/.test(req.url ?? '')) {
        res.writeHead(404).end();
        return;
      }
      envelopes.push({
        ...parseEnvelope(body),
        auth: String(req.headers['x-sentry-auth'] ?? req.url ?? ''),
        raw: body.toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://testkey@127.0.0.1:${port}/1`,
    envelopes,
    events: () =>
      envelopes.flatMap((envelope) =>
        envelope.items
          .filter((item) => item.header.type === 'event')
          .map((item) => item.payload as Record<string, unknown>),
      ),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseEnvelope(body: Buffer): Pick<SentryEnvelope, 'header' | 'items'> {
  let offset = 0;
  const line = (): Buffer => {
    const end = body.indexOf(0x0a, offset);
    const slice = body.subarray(offset, end === -1 ? body.length : end);
    offset = end === -1 ? body.length : end + 1;
    return slice;
  };
  const header = JSON.parse(line().toString('utf8')) as Record<string, unknown>;
  const items: SentryEnvelope['items'] = [];
  while (offset < body.length) {
    const itemHeaderLine = line();
    if (itemHeaderLine.length === 0) continue;
    const itemHeader = JSON.parse(itemHeaderLine.toString('utf8')) as Record<string, unknown>;
    let payload: Buffer;
    if (typeof itemHeader.length === 'number') {
      payload = body.subarray(offset, offset + itemHeader.length);
      offset += itemHeader.length + 1;
    } else payload = line();
    const text = payload.toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // attachments and other non-JSON items stay text
    }
    items.push({ header: itemHeader, payload: parsed });
  }
  return { header, items };
}
