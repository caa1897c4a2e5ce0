import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import { runMigrations } from '../db/migrate.js';
import { resolveDatabaseUrl } from '../db/embedded.js';
import { closeDeps, createDeps } from '../deps.js';
import { createLogger } from '../lib/logger.js';
import { trackPool } from '../lib/metrics.js';
import { onShutdownSignal } from '../lib/shutdown.js';
import { startRealtime } from '../modules/realtime/realtime.hub.js';
import { allRoutes } from '../routes.js';
import type { RouteSpec } from './route.js';
import { listen } from './server.js';

/**
 * The API process: dependencies → migrations (development) → buildApp() → listen, and on
 * SIGTERM/SIGINT: WebSockets close with 1012, /ready turns 503, no new connections,
 * in-flight requests finish within SHUTDOWN_TIMEOUT_MS, pools close, exit 0.
 */
export async function runApiProcess(
  config: Config,
  routes: RouteSpec[] = allRoutes,
): Promise<void> {
  const logger = createLogger(config);
  const database = await resolveDatabaseUrl(config, (message) => logger.info(message));
  const deps = createDeps({
    config,
    logger,
    databaseUrl: database.url,
    applicationName: 'backend-api',
    cacheSessions: true,
  });
  trackPool('api', deps.pool);
  trackPool('api-hot', deps.hotPool);
  const starting = (async () => {
    if (config.database.migrateOnStart) {
      await runMigrations(deps.pool);
      logger.info('migrations applied');
    }
    const running = await listen(buildApp(deps, routes), {
      host: config.host,
      port: config.port,
      lifecycle: deps.lifecycle,
    });
    // GET /realtime (WebSocket upgrades on the same server).
    const realtime = await startRealtime(running.server, deps);
    return { running, realtime };
  })();

  // Installed before the server listens: /health answers before the realtime hub is up,
  // and a SIGTERM in that window (an orchestrator stopping a pod it just saw healthy) must
  // still drain, not end the process on the default action. It waits for the start first.
  onShutdownSignal(logger, async () => {
    const { running, realtime } = await starting;
    // Sockets first (1012: reconnect elsewhere and resume), then the HTTP drain.
    await realtime.close();
    const { abandoned } = await running.drain(config.http.shutdownTimeoutMs);
    if (abandoned > 0)
      logger.warn({ abandoned }, 'requests still running at the shutdown deadline were cut');
    await closeDeps(deps);
    await database.stop();
  });

  const { running } = await starting;
  logger.info(
    { port: running.port },
    `API listening on port ${running.port}; reference at ${config.publicUrl}/docs`,
  );
}
