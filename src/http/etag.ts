import { createHash } from 'node:crypto';
import type { AppContext } from './context.js';

/**
 * Sets a strong ETag (hash of the JSON representation) and answers 304 when the client's
 * If-None-Match already names it. Hashing the body rather than `version` keeps the ETag
 * honest for stock changes, which change the representation but not `version`.
 */
export function sendWithEtag(ctx: AppContext, body: unknown): void {
  sendJsonWithEtag(ctx, JSON.stringify(body));
}

/** sendWithEtag for a body that is already JSON text (e.g. rendered by PostgreSQL). */
export function sendJsonWithEtag(ctx: AppContext, json: string): void {
  // Encoded once: the hash, Content-Length and the socket then all use these bytes
  // (a string body would be encoded to UTF-8 three times over).
  const bytes = Buffer.from(json);
  ctx.status = 200;
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
  ctx.etag = etag;
  ctx.set('Cache-Control', 'private, no-cache');
  if (matchesIfNoneMatch(ctx.get('if-none-match'), etag)) {
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
