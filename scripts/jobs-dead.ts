// `pnpm jobs:dead list [--queue <name>] [--all] [--limit <n>]` lists dead jobs (attempts used
// up, or failed permanently), newest first; `pnpm jobs:dead retry <id>...` runs them again
// with fresh attempts. For operators: webhook deliveries also have their owner-facing retry.
import { loadConfigOrExit } from '../src/config.js';
import { resolveDatabaseUrl } from '../src/db/embedded.js';
import { closeDeps, createDeps } from '../src/deps.js';
import { listDeadJobs, retryDeadJob } from '../src/jobs/dead-jobs.js';
import { createLogger } from '../src/lib/logger.js';

const [command, ...args] = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? undefined : args[index + 1];
};

const config = loadConfigOrExit();
const logger = createLogger(config);
const database = await resolveDatabaseUrl(config, (message) => logger.info(message));
const deps = createDeps({
  config,
  logger,
  databaseUrl: database.url,
  applicationName: 'jobs-dead',
});
let exitCode = 0;

try {
  if (command === 'list') {
    const rows = await listDeadJobs(deps, {
      queue: option('queue'),
      includeRetried: args.includes('--all'),
      limit: Number(option('limit') ?? 100),
    });
    if (rows.length === 0) process.stdout.write('no dead jobs\n');
    for (const row of rows) {
      process.stdout.write(
        `${row.id}\t${row.failedAt.toISOString()}\t${row.queue}\t${row.jobName}\t${row.jobId}\t` +
          `attempts=${row.attempts}\t${row.retriedAt ? `retried ${row.retriedAt.toISOString()}` : 'dead'}\t` +
          `${row.error.replace(/\s+/g, ' ').slice(0, 200)}\n`,
      );
    }
  } else if (command === 'retry' && args.length > 0) {
    for (const raw of args) {
      const id = Number(raw);
      const retried = Number.isInteger(id) ? await retryDeadJob(deps, id) : undefined;
      if (retried)
        process.stdout.write(
          `retried ${id}: ${retried.queue}/${retried.jobName} ${retried.jobId}\n`,
        );
      else {
        process.stderr.write(`no dead job ${raw}\n`);
        exitCode = 1;
      }
    }
  } else {
    process.stderr.write(
      'usage: pnpm jobs:dead list [--queue <name>] [--all] [--limit <n>] | retry <id>...\n',
    );
    exitCode = 64;
  }
} finally {
  await closeDeps(deps);
  await database.stop();
}
process.exit(exitCode);
