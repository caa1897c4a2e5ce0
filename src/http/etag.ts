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
  ctx.etag = createHash('sha256').update(bytes).digest('base64url').slice(0, 27);
  ctx.set('Cache-Control', 'private, no-cache');
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'application/json';
  ctx.body = bytes;
}
