// Loaded with `node --import` before the entry point (`start`, `start:worker`, `dev`, the
// Docker image), so the instrumented modules (http, undici, pg, ioredis) are hooked before
// anything imports them. It imports only configuration and src/observability/: nothing of
// the app. With OTEL_EXPORTER_OTLP_ENDPOINT unset no SDK starts and nothing is hooked;
// with SENTRY_DSN unset Sentry stays off.
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';

function configOrUndefined(): Config | undefined {
  try {
    return loadConfig();
  } catch (error) {
    // The entry point reports every bad variable and exits 78; nothing to start meanwhile.
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

const config = configOrUndefined();
const { tracing, sentry } = config?.observability ?? {};
if (tracing || sentry) {
  const version = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  const role = path.basename(process.argv[1] ?? '').startsWith('worker') ? 'worker' : 'api';
  if (tracing) {
    // ESM imports are hooked by import-in-the-middle, limited to the modules the
    // instrumentations ask for (the channel tells the loader thread which ones).
    const { createAddHookMessageChannel } = await import('import-in-the-middle');
    const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
    register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
    const { startTracing } = await import('./observability/tracing.js');
    startTracing(tracing, role, version);
    await waitForAllMessagesAcknowledged();
  }
  if (sentry) {
    const { startSentry } = await import('./observability/sentry.js');
    startSentry(sentry, version);
  }
}
