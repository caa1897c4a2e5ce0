// `pnpm etims:simulator [--port 4010] [--host 127.0.0.1] [--mode normal|slow|down|…]`: the
// KRA eTIMS OSCU simulator alone. Point the eTIMS base URL at http://host:port/etims-api.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startOscuSimulator, type OscuMode } from './simulator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    host: { type: 'string', default: '127.0.0.1' },
    mode: { type: 'string', default: 'normal' },
    'delay-ms': { type: 'string', default: '5000' },
    'vat-b': { type: 'string', default: '16' },
  },
});

const delayMs = Number(values['delay-ms']);
const modes: Record<string, OscuMode> = {
  normal: { kind: 'normal' },
  slow: { kind: 'slow', delayMs },
  down: { kind: 'down', status: 503 },
  'accept-then-timeout': { kind: 'accept-then-timeout', delayMs },
  refusing: { kind: 'refusing', resultCd: '910', detail: 'simulated refusal' },
};
const mode = modes[values.mode];
const port = Number(values.port);
const vatB = Number(values['vat-b']);
if (!mode || !Number.isInteger(port) || !Number.isFinite(delayMs) || !Number.isFinite(vatB)) {
  process.stderr.write(
    `usage: etims:simulator [--port N] [--host H] [--mode ${Object.keys(modes).join('|')}] [--delay-ms N] [--vat-b 16]\n`,
  );
  process.exit(2);
}

const logger = pino({ base: { process: 'etims-simulator' } });
const simulator = await startOscuSimulator({
  port,
  host: values.host,
  mode,
  taxRates: { A: 0, B: vatB, C: 0, D: 0, E: 8 },
  log: (message) => logger.info(message),
});
logger.info(`KRA eTIMS OSCU simulator on ${simulator.baseUrl} (mode ${values.mode})`);

const stop = () => {
  void simulator.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
