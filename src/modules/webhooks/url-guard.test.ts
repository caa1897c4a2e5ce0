import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkUrlSyntax,
  checkWebhookUrl,
  createDeliveryAgent,
  isForbiddenAddress,
} from './url-guard.js';

const strict = { allowPrivateNetworks: false, requireHttps: false };

/** A resolver that answers from a table, as a rebinding DNS server would. */
function fakeLookup(table: Record<string, string[]>) {
  return ((
    hostname: string,
    _options: unknown,
    callback: (error: Error | null, addresses: LookupAddress[]) => void,
  ) => {
    const addresses = table[hostname];
    if (!addresses) {
      callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  }) as unknown as typeof import('node:dns').lookup;
}

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.254',
    '224.0.0.251',
    '255.255.255.255',
    '192.0.2.1',
    '::1',
    '::',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
    'not-an-ip',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '100.128.0.1',
    '172.32.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
  ])('allows the public address %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('refuses every address of the private IPv4 ranges', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constant(10), octet, octet, octet),
          fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), octet, octet),
          fc.tuple(fc.constant(192), fc.constant(168), octet, octet),
          fc.tuple(fc.constant(127), octet, octet, octet),
          fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
          fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), octet, octet),
        ),
        (parts) => {
          const v4 = parts.join('.');
          return isForbiddenAddress(v4) && isForbiddenAddress(`::ffff:${v4}`);
        },
      ),
    );
  });
});

describe('checkUrlSyntax / checkWebhookUrl', () => {
  it('requires https in production', () => {
    expect(checkUrlSyntax('http://93.184.215.14/', { ...strict, requireHttps: true })).toEqual({
      ok: false,
      reason: 'must use https',
    });
    expect(checkUrlSyntax('https://93.184.215.14/', { ...strict, requireHttps: true }).ok).toBe(
      true,
    );
  });

  it('resolves names and refuses those reaching a private address', async () => {
    const lookup = fakeLookup({
      'hooks.example.com': ['93.184.215.14'],
      'mixed.example.com': ['93.184.215.14', '10.0.0.5'],
      'rebind.example.com': ['127.0.0.1'],
    });
    expect((await checkWebhookUrl('https://hooks.example.com/x', strict, lookup)).ok).toBe(true);
    expect((await checkWebhookUrl('https://mixed.example.com/x', strict, lookup)).ok).toBe(false);
    expect((await checkWebhookUrl('https://rebind.example.com/x', strict, lookup)).ok).toBe(false);
    expect(await checkWebhookUrl('https://gone.example.com/x', strict, lookup)).toEqual({
      ok: false,
      reason: 'host does not resolve',
    });
    // Development and tests may target private networks.
    const open = { allowPrivateNetworks: true, requireHttps: false };
    expect((await checkWebhookUrl('http://127.0.0.1:3000/', open, lookup)).ok).toBe(true);
  });
});

describe('the delivery agent', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      hits += 1;
      if (_req.url === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/landed` });
        res.end();
        return;
      }
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('checks the address it actually connects to: a name rebound to loopback is refused', async () => {
    // At registration the name looked public; at delivery it resolves to loopback.
    const agent = createDeliveryAgent(
      strict,
      2_000,
      fakeLookup({ 'rebind.example.com': ['127.0.0.1'] }),
    );
    const before = hits;
    await expect(
      request(`http://rebind.example.com:${port}/`, {
        dispatcher: agent,
        method: 'POST',
        body: '{}',
      }),
    ).rejects.toThrow();
    expect(hits).toBe(before);
    await agent.close();
  });

  it('does not follow redirects', async () => {
    const agent = createDeliveryAgent({ allowPrivateNetworks: true, requireHttps: false }, 2_000);
    const before = hits;
    const response = await request(`http://127.0.0.1:${port}/redirect`, {
      dispatcher: agent,
      method: 'POST',
      body: '{}',
    });
    expect(response.statusCode).toBe(302);
    await response.body.dump();
    expect(hits).toBe(before + 1);
    await agent.close();
  });
});
