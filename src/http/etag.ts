import { createHash } from 'node:crypto';
import type { AppContext } from './context.js';

/**
 * The strong ETag of a JSON representation: a hash of its bytes. Hashing the body rather
 * than `version` keeps the ETag honest for stock changes, which change the representation
 * but not `version`.
 */
export function jsonEtag(bytes: Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
}

/**
 * Sends JSON bytes whose ETag is already known (e.g. both from the catalog cache), or 304
 * when If-None-Match names it. `bytes` may be absent only when it does (the cache skips
 * fetching a body the client already has).
 */
export function sendEntity(ctx: AppContext, etag: string, bytes: Buffer | undefined): void {
  ctx.status = 200;
  ctx.etag = etag;
  ctx.set('Cache-Control', 'private, no-cache');
  if (!bytes || matchesIfNoneMatch(ctx.get('if-none-match'), etag)) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'application/json';
  ctx.body = bytes;
}

/**
 * RFC 9110 §13.1.2: does an If-None-Match header name this entity tag (weak comparison,
 * `*` matches any)? Evaluated on its own, deliberately not through Koa's `ctx.fresh`:
 * `fresh` treats `Cache-Control: no-cache` as an end-to-end reload and answers 200, but
 * browsers' and Node's fetch add that header to every request carrying a hand-set
 * If-None-Match, so fetch clients would never get a 304. §13.2.1 has the origin server
 * evaluate the precondition whatever the request's cache directives (those are for caches).
 */
export function matchesIfNoneMatch(header: string, etag: string): boolean {
  const candidate = header.trim();
  if (candidate === '') return false;
  if (candidate === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return candidate.split(',').some((tag) => opaque(tag) === wanted);
}
