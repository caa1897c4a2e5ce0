// `pnpm sms:simulator [--port 4020] [--username sandbox] [--api-key K] [--sender-id ID]
// [--delivery-url URL] [--mode normal|slow|down|failing]`: the Africa's Talking simulator.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startSmsSimulator, type SmsMode } from './simulator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4020' },
    host: { type: 'string', default: '127.0.0.1' },
    username: { type: 'string', default: 'sandbox' },
    'api-key': { type: 'string', default: 'simulator-api-key' },
    'sender-id': { type: 'string', multiple: true, default: ['AFRICASTKNG'] },
    'delivery-url': { type: 'string' },
    'delivery-delay-ms': { type: 'string', default: '1000' },
    mode: { type: 'string', default: 'normal' },
    'delay-ms': { type: 'string', default: '5000' },
  },
});

const modes: Record<string, SmsMode> = {
  normal: { kind: 'normal' },
  slow: { kind: 'slow', delayMs: Number(values['delay-ms']) },
  down: { kind: 'down', status: 503 },
  failing: { kind: 'failing', statusCode: 500 },
};
const mode = modes[values.mode];
const port = Number(values.port);
const deliveryDelayMs = Number(values['delivery-delay-ms']);
if (!mode || !Number.isInteger(port) || !Number.isFinite(deliveryDelayMs)) {
  process.stderr.write(
    `usage: sms:simulator [--port N] [--username U] [--api-key K] [--sender-id ID]… [--delivery-url URL] [--mode ${Object.keys(modes).join('|')}]\n`,
  );
  process.exit(2);
}

const logger = pino({ base: { process: 'sms-simulator' } });
const simulator = await startSmsSimulator({
  port,
  host: values.host,
  username: values.username,
  apiKey: values['api-key'],
  senderIds: values['sender-id'],
  deliveryReportUrl: values['delivery-url'],
  deliveryDelayMs,
  mode,
  log: (message) => logger.info(message),
});
logger.info(`Africa's Talking SMS simulator on ${simulator.url} (mode ${values.mode})`);

const stop = () => {
  void simulator.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
