// `pnpm dev`: the API and the worker together in watch mode. With DATABASE_URL unset it
// starts the embedded PostgreSQL once (under .data/) and hands its URL to both processes.
import { concurrently } from 'concurrently';
import { loadConfigOrExit } from '../src/config.js';
import { resolveDatabaseUrl } from '../src/db/embedded.js';
import { createPool } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';

const config = loadConfigOrExit();
const database = await resolveDatabaseUrl(config);
const pool = createPool({ url: database.url, poolMax: 2, applicationName: 'backend-api-dev' });
await runMigrations(pool);
await pool.end();

const env = { DATABASE_URL: database.url, MIGRATE_ON_START: 'false' };
const { result } = concurrently(
  [
    {
      command: 'tsx watch --clear-screen=false src/server.ts',
      name: 'api',
      prefixColor: 'cyan',
      env,
    },
    {
      command: 'tsx watch --clear-screen=false src/worker.ts',
      name: 'worker',
      prefixColor: 'magenta',
      env,
    },
  ],
  { killOthersOn: ['failure'], killSignal: 'SIGTERM' },
);

const stop = async () => {
  await database.stop();
};
result.then(stop, stop).finally(() => process.exit(0));
