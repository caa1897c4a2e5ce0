import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { AppContextExtensions, AppState } from '../context.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Keeps a well-formed incoming X-Request-Id, otherwise makes one; always echoes it. */
export function requestId(): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}
