import { loadConfigOrExit } from './config.js';
import { resolveDatabaseUrl } from './db/embedded.js';
import { closeDeps, createDeps } from './deps.js';
import { startOutboxRelay } from './jobs/outbox-relay.js';
import { startWorkers } from './jobs/runtime.js';
import { createLogger } from './lib/logger.js';
import { trackPool } from './lib/metrics.js';
import { onShutdownSignal } from './lib/shutdown.js';

// Worker entry point: the outbox relay, BullMQ workers and repeatable jobs; graceful shutdown.
const config = loadConfigOrExit();
const logger = createLogger(config).child({ process: 'worker' });
const database = await resolveDatabaseUrl(config, (message) => logger.info(message));
const deps = createDeps({
  config,
  logger,
  databaseUrl: database.url,
  applicationName: 'backend-api-worker',
});
trackPool('worker', deps.pool);

const runtime = await startWorkers(deps);
const relay = startOutboxRelay(deps);
logger.info('worker started');

onShutdownSignal(logger, async () => {
  // Stop feeding the queues first, then let running jobs finish within the deadline.
  await relay.close();
  await runtime.close(config.http.shutdownTimeoutMs);
  await closeDeps(deps);
  await database.stop();
});
