// Is the sales summary fast enough without a cache? Seeds a year of a busy shop
// (BENCH_SALES, default 50,000 sales ≈ 137 a day, ~75k lines) and times every grouping of a
// one-year, one-month and one-day report. Run: `pnpm bench:summary`.
import { loadConfig } from '../src/config.js';
import { closeDeps, createDeps } from '../src/deps.js';
import { createLogger } from '../src/lib/logger.js';
import { asCaller } from '../src/modules/auth/caller.js';
import { permissionsOf } from '../src/modules/auth/permissions.js';
import { getSalesSummary } from '../src/modules/reports/reports.service.js';
import { SUMMARY_GROUPS } from '../src/modules/reports/reports.schemas.js';
import { seedShop } from './lib/sales-seed.js';

const salesCount = Number(process.env.BENCH_SALES ?? 50_000);
const runs = Number(process.env.BENCH_RUNS ?? 20);

const seedStart = performance.now();
const shop = await seedShop({ sales: salesCount, days: 365 });
console.log(`seeded ${salesCount} sales in ${Math.round(performance.now() - seedStart)} ms`);

const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATABASE_URL: shop.databaseUrl,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  JWT_SECRET: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
});
const deps = createDeps({ config, logger: createLogger(config), databaseUrl: shop.databaseUrl });
// The summary is read as a manager would (the bench signs no one in: the caller is made here).
const caller = asCaller({
  businessId: shop.businessId,
  userId: shop.cashierId,
  sessionId: shop.cashierId,
  role: 'manager',
  locationIds: [],
  permissions: permissionsOf('manager'),
  businessTimezone: 'Africa/Nairobi',
});

try {
  // With one business holding most of the table the planner rightly scans it all for a
  // year; for a month (or a business among many) it range-scans sales_business_occurred_idx.
  for (const from of ['2025-11-01', '2026-10-01']) {
    const plan = await deps.pool.query(
      `explain select count(*) from sales s where s.business_id = $1
         and s.occurred_at >= ($2::date)::timestamp at time zone 'Africa/Nairobi'
         and s.occurred_at < ('2026-11-01'::date)::timestamp at time zone 'Africa/Nairobi'`,
      [shop.businessId, from],
    );
    console.log(`plan of the range scan from ${from}:`);
    for (const row of plan.rows as { 'QUERY PLAN': string }[])
      console.log(`  ${row['QUERY PLAN']}`);
  }

  for (const [label, from, to] of [
    ['year', '2025-11-01', '2026-10-31'],
    ['month', '2026-10-01', '2026-10-31'],
    ['day', '2026-10-15', '2026-10-15'],
  ] as const) {
    for (const groupBy of SUMMARY_GROUPS) {
      const times: number[] = [];
      let rows = 0;
      let count = 0;
      for (let run = 0; run < runs; run++) {
        const start = performance.now();
        const summary = await getSalesSummary(deps, caller, { from, to, groupBy });
        times.push(performance.now() - start);
        rows = summary.rows.length;
        count = summary.totals.count;
      }
      times.sort((a, b) => a - b);
      const p50 = times[Math.floor(times.length / 2)]!;
      const max = times.at(-1)!;
      console.log(
        `${label.padEnd(5)} ${groupBy.padEnd(13)} sales=${String(count).padStart(6)} rows=${String(rows).padStart(4)}  p50 ${p50.toFixed(1)} ms  max ${max.toFixed(1)} ms`,
      );
    }
  }
} finally {
  await closeDeps(deps);
  await shop.drop();
}
