import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { AppContextExtensions, AppState } from '../context.js';

export const REQUEST_ID_MAX_LENGTH = 128;
const SAFE_REQUEST_ID = new RegExp(`^[A-Za-z0-9._:@/+=-]{1,${REQUEST_ID_MAX_LENGTH}}$`);

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
