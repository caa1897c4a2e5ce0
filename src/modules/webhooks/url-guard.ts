import dns, { type LookupAddress } from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';
import type { Config } from '../../config.js';

/**
 * SSRF guard for integrator-supplied webhook URLs (API.md "Webhooks", OWASP API7). Only
 * globally routable unicast addresses may be reached: loopback, private, link-local (cloud
 * metadata 169.254.169.254), CGNAT, multicast, unspecified, reserved and the IPv6 forms
 * (ULA, link-local, IPv4-mapped, NAT64, 6to4, Teredo) are refused. The same check runs on
 * the address a delivery actually connects to, so DNS rebinding cannot slip past it.
 */
export interface UrlPolicy {
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: development and tests only. */
  allowPrivateNetworks: boolean;
  requireHttps: boolean;
}

/** The policy this deployment applies to webhook URLs (and to the addresses they resolve to). */
export const urlPolicy = (config: Config): UrlPolicy => ({
  allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
  requireHttps: config.isProduction,
});

export class BlockedAddressError extends Error {
  constructor(readonly address: string) {
    super(`refused to connect to the non-public address ${address}`);
    this.name = 'BlockedAddressError';
  }
}

/** True when `address` (an IP literal) is anything but a public unicast address. */
export function isForbiddenAddress(address: string): boolean {
  const literal = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(literal)) return true;
  let parsed = ipaddr.parse(literal);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() !== 'unicast';
}

export type UrlProblem = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Said with every private-address refusal: a developer pointing a webhook at a receiver on
 * their own machine needs the setting's name, not a hunt through the config.
 */
const PRIVATE_NETWORK_HINT =
  '(set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it in development and tests; production refuses it)';
const privateAddress = (what: string): UrlProblem => ({
  ok: false,
  reason: `${what} a private, loopback or reserved address ${PRIVATE_NETWORK_HINT}`,
});

/**
 * The checks that need no network: scheme, credentials, and IP-literal hosts. WHATWG URL
 * parsing already turns decimal, octal and hex spellings (2130706433, 0177.0.0.1,
 * 0x7f000001) into dotted IPv4, so one literal check covers them all.
 */
export function checkUrlSyntax(raw: string, policy: UrlPolicy): UrlProblem {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  const allowed = policy.requireHttps ? ['https:'] : ['https:', 'http:'];
  if (!allowed.includes(url.protocol)) {
    return { ok: false, reason: policy.requireHttps ? 'must use https' : 'must use http or https' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not contain credentials' };
  if (url.hostname === '') return { ok: false, reason: 'must name a host' };
  if (policy.allowPrivateNetworks) return { ok: true, url };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) !== 0 && isForbiddenAddress(host)) return privateAddress('must not point to');
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return privateAddress('must not point to');
  }
  return { ok: true, url };
}

type LookupFn = typeof dns.lookup;

/**
 * Create-time check: the syntax rules, then every address the name resolves to now. A
 * name that does not resolve is refused (it could not be delivered to either).
 */
export async function checkWebhookUrl(
  raw: string,
  policy: UrlPolicy,
  lookup: LookupFn = dns.lookup,
): Promise<UrlProblem> {
  const syntax = checkUrlSyntax(raw, policy);
  if (!syntax.ok || policy.allowPrivateNetworks) return syntax;
  const host = syntax.url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) !== 0) return syntax;
  const addresses = await new Promise<LookupAddress[] | undefined>((resolve) => {
    lookup(host, { all: true }, (error, result) => resolve(error ? undefined : result));
  });
  if (!addresses || addresses.length === 0) return { ok: false, reason: 'host does not resolve' };
  if (addresses.some((entry) => isForbiddenAddress(entry.address))) {
    return privateAddress('resolves to');
  }
  return syntax;
}

/**
 * A `lookup` for net.connect that refuses forbidden addresses: the connection is made to
 * exactly the addresses checked here, so a name cannot resolve one way for a check and
 * another way for the connection.
 */
export function guardedLookup(lookup: LookupFn = dns.lookup): net.LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const blocked = addresses.find((entry) => isForbiddenAddress(entry.address));
      if (blocked) {
        callback(new BlockedAddressError(blocked.address), '', 0);
        return;
      }
      if (options.all) {
        (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0];
      if (!first) {
        callback(new Error(`${hostname} did not resolve`), '', 0);
        return;
      }
      callback(null, first.address, first.family);
    });
  };
}

/** The undici dispatcher deliveries go through: checked lookup, no redirects, bounded time. */
export function createDeliveryAgent(
  policy: UrlPolicy,
  timeoutMs: number,
  lookup: LookupFn = dns.lookup,
): Agent {
  return new Agent({
    connect: {
      timeout: timeoutMs,
      ...(policy.allowPrivateNetworks ? {} : { lookup: guardedLookup(lookup) }),
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 4_000,
    connections: 16,
  });
}
