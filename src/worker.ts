import { loadConfigOrExit } from './config.js';
import { resolveDatabaseUrl } from './db/embedded.js';
import { closeDeps, createDeps } from './deps.js';
import { redisEvictionPolicy } from './jobs/eviction-policy.js';
import { startAmqpPublisher } from './jobs/amqp-publisher.js';
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

// A Redis that may evict keys drops BullMQ's jobs and locks: lost or doubled work. Refuse to
// run on one (exit 78, like any configuration error) rather than lose jobs quietly. A Redis
// not reachable yet is not a reason to stop: the relay keeps events in the outbox meanwhile.
const evictionPolicy = await redisEvictionPolicy(deps.redis).catch(() => undefined);
if (evictionPolicy === undefined) {
  // Unreadable with Redis down is part of the outage, already said once (createRedis);
  // unreadable from a reachable Redis (CONFIG disabled) is worth its own line.
  if (deps.redis.status === 'ready') {
    logger.warn('could not read Redis maxmemory-policy; BullMQ needs noeviction');
  }
} else if (evictionPolicy !== 'noeviction') {
  logger.fatal(
    { maxmemoryPolicy: evictionPolicy },
    `Redis maxmemory-policy is ${evictionPolicy}; the queues need noeviction (evicted keys lose jobs and locks). Set maxmemory-policy noeviction on this Redis.`,
  );
  await closeDeps(deps);
  await database.stop();
  // Production logs asynchronously: write the line out before exiting.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.exit(78);
}

const runtime = await startWorkers(deps);
const relay = startOutboxRelay(deps);
// Events for the company's other services (AMQP_URL unset: none). Its own loop and
// connection: a broker outage never holds up the relay or the jobs.
const amqpPublisher = config.amqp.url ? startAmqpPublisher(deps) : undefined;
logger.info('worker started');

onShutdownSignal(logger, async () => {
  // Stop feeding the queues first, then let running jobs finish within the deadline.
  await Promise.all([relay.close(), amqpPublisher?.close()]);
  await runtime.close(config.http.shutdownTimeoutMs);
  await closeDeps(deps);
  await database.stop();
});
