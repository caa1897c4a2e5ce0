import Router from '@koa/router';
import Koa from 'koa';
import compress from 'koa-compress';
import helmet from 'koa-helmet';
import pinoLogger from 'koa-pino-logger';
import type { AppDeps } from './deps.js';
import {
  LOG_CONTEXT,
  type AppContextExtensions,
  type AppState,
  type RequestWithLogContext,
} from './http/context.js';
import { corsPolicy } from './http/middleware/cors.js';
import { errorHandler } from './http/middleware/errors.js';
import { httpMetrics } from './http/middleware/metrics.js';
import { rateLimit } from './http/middleware/rate-limit.js';
import { requestId } from './http/middleware/request-id.js';
import { answerRefusedBodies } from './http/refused-body.js';
import { routeMiddleware, toKoaPath, type RouteSpec } from './http/route.js';
import { requestLogSerializers } from './lib/request-log.js';
import { queueDashboard } from './jobs/dashboard.js';
import { countQueueJobs } from './jobs/queues.js';
import { trackOutboxLag, trackQueueCounts } from './lib/metrics.js';
import { mountAccountPages } from './modules/auth/account-pages.js';
import { mountDocsPage } from './modules/ops/docs-page.js';
import { buildOpenApiDocument } from './openapi.js';
import { allRoutes } from './routes.js';
import { trackAmqpBacklog } from './observability/amqp-metrics.js';
import { trackOperations } from './observability/metrics.js';

export type App = Koa<AppState, AppContextExtensions>;

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);
/**
 * The whole HTTP pipeline (ARCHITECTURE.md "A request's path"). Never listens: the server
 * entry point does, and tests drive `app.callback()`.
 */
export function buildApp(deps: AppDeps, routes: RouteSpec[] = allRoutes): App {
  const { config } = deps;
  const app: App = new Koa<AppState, AppContextExtensions>({
    proxy: config.http.trustProxy,
    maxIpsCount: config.http.proxyMaxIps,
  });
  app.context.deps = deps;
  app.silent = true; // errorHandler logs everything it handles

  app.use(requestId());
  // Outermost but for the request id: sees the final answer, before Koa sends it.
  app.use(answerRefusedBodies());
  // koa-pino-logger derives a child logger per request (serialising the request) for its
  // "request completed" line, which is written at info. Above info (production runs at warn)
  // that line is never written, so skip the work (~5% of a request's CPU); errorHandler
  // still logs every 5xx with its request id and caller.
  if (deps.logger.isLevelEnabled('info')) {
    app.use(
      pinoLogger({
        logger: deps.logger,
        genReqId: (_req, res) => String(res.getHeader('x-request-id') ?? ''),
        customProps: (req, res) => ({
          requestId: res.getHeader('x-request-id'),
          ...(req as RequestWithLogContext)[LOG_CONTEXT],
        }),
        autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0] ?? '') },
        quietReqLogger: true,
        // The M-Pesa callback URL carries a per-payment secret: never log it.
        serializers: requestLogSerializers(deps.config.env),
      }),
    );
  }
  app.use(httpMetrics());
  app.use(async (ctx, next) => {
    await next();
    // API answers are per-caller and change: no browser or proxy keeps them unless the
    // route says otherwise (ETag'd reads revalidate, files and docs assets are cacheable).
    if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
  });
  app.use(errorHandler(deps.logger));
  app.use(
    helmet({
      // Upgrading sub-resources to https would break /docs served over plain http locally.
      contentSecurityPolicy: {
        directives: { upgradeInsecureRequests: config.isProduction ? [] : null },
      },
    }),
  );
  app.use(corsPolicy(config.http.corsOrigins));
  app.use(compress({ threshold: 1024 }));
  app.use(
    rateLimit({
      redis: deps.redis,
      prefix: config.redis.prefix,
      maxPerMinute: config.http.rateLimitMax,
    }),
  );
  app.use(async (ctx, next) => {
    // While draining for shutdown, ask keep-alive clients to reconnect elsewhere.
    if (deps.lifecycle.shuttingDown) ctx.set('Connection', 'close');
    await next();
  });

  // Operators' queue dashboard: after the error handler, security headers and rate limit,
  // before the API router (it is not part of the API contract or the OpenAPI document).
  const dashboard = queueDashboard(deps);
  if (dashboard) app.use(dashboard as Parameters<App['use']>[0]);
  trackOutboxLag(deps.db);
  trackQueueCounts(() => countQueueJobs(deps));
  trackOperations(deps); // dead jobs, webhook outcomes, M-Pesa backlog, dependencies up
  trackAmqpBacklog(deps); // RabbitMQ publisher backlog (AMQP_URL set)

  const router = new Router<AppState, AppContextExtensions>();
  for (const route of routes) {
    router.register(toKoaPath(route.path), [route.method.toUpperCase()], routeMiddleware(route), {
      name: route.operationId,
    });
  }
  let openApiDocument: unknown;
  router.get('/openapi.json', (ctx) => {
    openApiDocument ??= buildOpenApiDocument(routes, {
      // Relative: /docs "Try it out" then calls whichever host served the page (same origin,
      // so the CSP's default-src 'self' allows it), not only the exact PUBLIC_URL.
      serverUrl: '/',
      environment: config.env,
    });
    ctx.body = openApiDocument;
  });
  mountDocsPage(router as unknown as Router);
  if (config.servesAccountPages) mountAccountPages(router as unknown as Router);

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
