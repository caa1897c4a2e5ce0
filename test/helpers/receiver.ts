import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status this receiver answered. */
  answered: number;
  /** Whether the standardwebhooks library accepted the signature (when a secret is set). */
  verified?: boolean;
}

export interface Receiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Distinct webhook-ids seen, with how many times each arrived. */
  counts: () => Map<string, number>;
  /** Set once the endpoint's secret is known: every later request is verified with it. */
  secret?: string;
  close: () => Promise<void>;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1. `answer(n)` decides the status of the n-th
 * request (0-based); default 200.
 */
export async function startReceiver(
  answer: (index: number, request: ReceivedWebhook) => number = () => 200,
): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: Receiver = {
    url: '',
    port: 0,
    received,
    counts: () => {
      const counts = new Map<string, number>();
      for (const entry of received) counts.set(entry.id, (counts.get(entry.id) ?? 0) + 1);
      return counts;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const entry: ReceivedWebhook = {
        id: String(req.headers['webhook-id'] ?? ''),
        timestamp: String(req.headers['webhook-timestamp'] ?? ''),
        signature: String(req.headers['webhook-signature'] ?? ''),
        headers: req.headers,
        body,
        answered: 0,
      };
      if (receiver.secret) entry.verified = verifies(receiver.secret, entry, body);
      entry.answered = answer(received.length, entry);
      received.push(entry);
      res.writeHead(entry.answered, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}

/** Verifies a delivery with the reference Standard Webhooks library. */
export function verifies(secret: string, entry: ReceivedWebhook, body: string): boolean {
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': entry.id,
      'webhook-timestamp': entry.timestamp,
      'webhook-signature': entry.signature,
    });
    return true;
  } catch {
    return false;
  }
}
