// `pnpm mpesa:simulator`: the Daraja simulator alone, on MPESA_SIMULATOR_PORT.
import { loadConfigOrExit } from '../../config.js';
import { createLogger } from '../../lib/logger.js';
import { startDarajaSimulator } from './simulator.js';

const config = loadConfigOrExit();
const logger = createLogger(config).child({ process: 'daraja-simulator' });
const simulator = await startDarajaSimulator({
  port: config.mpesa.simulator.port,
  host: '127.0.0.1',
  consumerKey: config.mpesa.consumerKey,
  consumerSecret: config.mpesa.consumerSecret,
  shortcode: config.mpesa.shortcode,
  passkey: config.mpesa.passkey,
  callbackDelayMs: config.mpesa.simulator.callbackDelayMs,
  lateCallbackDelayMs: config.mpesa.simulator.lateCallbackDelayMs,
  log: (message) => logger.info(message),
});
logger.info(
  `Daraja simulator on ${simulator.url} (point MPESA_BASE_URL at it; the phone picks the scenario)`,
);

// `on`, not `once`: Ctrl-C under pnpm delivers SIGINT more than once (the terminal's, then
// pnpm's and tsx's relays), and a later one without a listener would end the process 130.
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void simulator.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
