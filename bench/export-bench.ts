// Does a big export run in flat memory? Seeds BENCH_SALES (default 200,000) sales (~300k
// lines) directly with SQL, runs the export job in this process into local storage, and
// prints the duration, rows, file size and peak RSS. Run: `pnpm bench:export`.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { closeDeps, createDeps } from '../src/deps.js';
import { createLogger } from '../src/lib/logger.js';
import { exportStorageKey, runSalesExport } from '../src/modules/reports/exports.job.js';
import { seedShop } from './lib/sales-seed.js';

const salesCount = Number(process.env.BENCH_SALES ?? 200_000);
const mb = (kilobytes: number) => `${(kilobytes / 1024).toFixed(1)} MB`;

const shop = await seedShop({ sales: salesCount, days: 365 });
const storageDir = await mkdtemp(path.join(tmpdir(), 'export-bench-'));
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATABASE_URL: shop.databaseUrl,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  JWT_SECRET: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
  STORAGE_LOCAL_DIR: storageDir,
});
const deps = createDeps({ config, logger: createLogger(config), databaseUrl: shop.databaseUrl });

try {
  const exportId = crypto.randomUUID();
  const client = new pg.Client({ connectionString: shop.databaseUrl });
  await client.connect();
  await client.query(
    `insert into report_exports (id, business_id, requested_by, type, format, from_day, to_day, timezone)
     values ($1, $2, $3, 'sales', 'csv', '2025-10-01', '2026-10-31', 'Africa/Nairobi')`,
    [exportId, shop.businessId, shop.cashierId],
  );
  await client.end();

  global.gc?.();
  const before = process.resourceUsage().maxRSS;
  const start = performance.now();
  const outcome = await runSalesExport(deps, exportId);
  const seconds = (performance.now() - start) / 1000;
  const after = process.resourceUsage().maxRSS;
  const file = await stat(path.join(storageDir, exportStorageKey(exportId)));
  console.log(
    `exported ${outcome.rowCount} lines of ${salesCount} sales: ${(file.size / 1024 / 1024).toFixed(1)} MB CSV in ${seconds.toFixed(1)} s`,
  );
  console.log(
    `peak RSS before the export ${mb(before)}, after ${mb(after)} (grew ${mb(after - before)})`,
  );
} finally {
  await closeDeps(deps);
  await shop.drop();
  await rm(storageDir, { recursive: true, force: true });
}
