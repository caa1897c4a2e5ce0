// `pnpm outbox:redispatch --since <ISO time>`: after Redis lost its data (restart without
// persistence, failover to an empty replica), relay again every outbox row dispatched since
// that time. Consumers are idempotent, so choosing a generous time is safe.
import { loadConfigOrExit } from '../src/config.js';
import { createDb, createPool } from '../src/db/client.js';
import { resolveDatabaseUrl } from '../src/db/embedded.js';
import { redispatchOutboxSince } from '../src/jobs/outbox-replay.js';

const sinceIndex = process.argv.indexOf('--since');
const since = new Date(process.argv[sinceIndex + 1] ?? '');
if (sinceIndex === -1 || Number.isNaN(since.getTime())) {
  process.stderr.write('usage: pnpm outbox:redispatch --since 2026-11-22T08:00:00Z\n');
  process.exit(2);
}

const config = loadConfigOrExit();
const database = await resolveDatabaseUrl(config);
const pool = createPool({ url: database.url, poolMax: 1, applicationName: 'outbox-redispatch' });
const count = await redispatchOutboxSince(createDb(pool), since);
process.stdout.write(`${count} outbox rows will be relayed again by the worker.\n`);
await pool.end();
await database.stop();
