import type { Middleware } from 'koa';
import { AppError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import {
  LOG_CONTEXT,
  type AppContextExtensions,
  type AppState,
  type RequestWithLogContext,
} from '../context.js';
import { toProblem } from '../problem.js';
import { reportRequestError } from '../../observability/report.js';
import { recordError } from '../../observability/trace.js';

/**
 * Wraps everything below it: any thrown error, and any request no route answered, becomes
 * a problem document. Unexpected errors are logged in full with the request id.
 */
export function errorHandler(logger: Logger): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404)
          throw new AppError('NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
        // The router's allowedMethods() leaves 405/501 with an Allow header and no body.
        if (ctx.status === 405 || ctx.status === 501) {
          throw new AppError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`);
        }
      }
    } catch (error) {
      const problem = toProblem(error, ctx.state.requestId);
      // The request logger when koa-pino-logger is mounted (below info it is not: app.ts).
      const log = (ctx as { log?: Logger }).log ?? logger;
      if (problem.unexpected) {
        const caller = (ctx.req as RequestWithLogContext)[LOG_CONTEXT];
        log.error({ err: error, requestId: ctx.state.requestId, ...caller }, 'request failed');
        recordError(error);
        reportRequestError(error, {
          requestId: ctx.state.requestId,
          method: ctx.method,
          route: (ctx as { _matchedRoute?: string })._matchedRoute,
          status: problem.status,
          businessId: caller?.businessId,
          userId: caller?.userId,
        });
      } else {
        log.debug({ code: problem.body.code, requestId: ctx.state.requestId }, 'request refused');
      }
      ctx.status = problem.status;
      ctx.set(problem.headers);
      // RFC 9110 §15.5.2: every 401 names the scheme that would work; RFC 6750 §3 adds
      // error="invalid_token" when a bearer token was presented and refused.
      if (problem.status === 401 && !ctx.response.get('WWW-Authenticate')) {
        const presented = /^Bearer\s/i.test(ctx.get('authorization'));
        ctx.set('WWW-Authenticate', presented ? 'Bearer error="invalid_token"' : 'Bearer');
      }
      ctx.type = 'application/problem+json';
      ctx.body = problem.body;
    }
  };
}
