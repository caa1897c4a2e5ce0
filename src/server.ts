import { loadConfigOrExit } from './config.js';
import { runApiProcess } from './http/run-api.js';

// HTTP entry point. Containers run `node dist/server.js` directly (never through pnpm,
// which does not pass SIGTERM on), so the graceful shutdown in runApiProcess() runs.
await runApiProcess(loadConfigOrExit());
