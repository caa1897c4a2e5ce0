import type { Middleware } from 'koa';
import { httpRequestDuration } from '../../lib/metrics.js';
import { setHttpRoute } from '../../observability/trace.js';
import type { AppContextExtensions, AppState } from '../context.js';

/** Observes every request's latency, labelled by the matched route template (bounded cardinality). */
export function httpMetrics(): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    const end = httpRequestDuration.startTimer();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: string })._matchedRoute;
      if (matched) setHttpRoute(matched); // the trace's server span: `POST /sales`
      const route = matched ?? 'unmatched';
      end({ method: ctx.method, route, status: String(ctx.status) });
    }
  };
}
