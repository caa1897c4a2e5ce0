// `pnpm dev`: the API and the worker together in watch mode. With DATABASE_URL unset it
// starts the embedded PostgreSQL once (under .data/) and hands its URL to both processes.
// Without Daraja credentials (MPESA_ENV=simulator, the default then) it also runs the Daraja
// simulator in this process and points both at it, so the whole payment flow works locally.
import { concurrently } from 'concurrently';
import { loadConfigOrExit } from '../src/config.js';
import { resolveDatabaseUrl } from '../src/db/embedded.js';
import { createPool } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { startDarajaSimulator, type DarajaSimulator } from '../src/mpesa/simulator/simulator.js';

const config = loadConfigOrExit();
const database = await resolveDatabaseUrl(config);
const pool = createPool({ url: database.url, poolMax: 2, applicationName: 'backend-api-dev' });
await runMigrations(pool);
await pool.end();

let simulator: DarajaSimulator | undefined;
const mpesaEnv: Record<string, string> = {};
if (config.mpesa.env === 'simulator') {
  try {
    simulator = await startDarajaSimulator({
      port: config.mpesa.simulator.port,
      consumerKey: config.mpesa.consumerKey,
      consumerSecret: config.mpesa.consumerSecret,
      shortcode: config.mpesa.shortcode,
      passkey: config.mpesa.passkey,
      callbackDelayMs: config.mpesa.simulator.callbackDelayMs,
      lateCallbackDelayMs: config.mpesa.simulator.lateCallbackDelayMs,
      log: (message) => console.log(`[daraja-sim] ${message}`),
    });
    console.log(
      `[daraja-sim] Daraja simulator on ${simulator.url}: phone 254700000001 succeeds, …0002 cancels, …0005 never answers (see API.md)`,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    console.log(`[daraja-sim] port ${config.mpesa.simulator.port} is taken; using what runs there`);
  }
  mpesaEnv.MPESA_ENV = 'simulator';
  mpesaEnv.MPESA_BASE_URL = simulator?.url ?? config.mpesa.baseUrl;
}

const env = { DATABASE_URL: database.url, MIGRATE_ON_START: 'false', ...mpesaEnv };
const { result } = concurrently(
  [
    {
      command: 'tsx watch --clear-screen=false --import ./src/otel-register.ts src/server.ts',
      name: 'api',
      prefixColor: 'cyan',
      env,
    },
    {
      command: 'tsx watch --clear-screen=false --import ./src/otel-register.ts src/worker.ts',
      name: 'worker',
      prefixColor: 'magenta',
      env,
    },
  ],
  { killOthersOn: ['failure'], killSignal: 'SIGTERM' },
);

const stop = async () => {
  await simulator?.close();
  await database.stop();
};
result.then(stop, stop).finally(() => process.exit(0));
