// `pnpm bench`: the reference (pgbench: L_pg, L_cat) and the production build under load
// (autocannon, 16 connections, warm-up first), in one run on this machine. Prints a table
// and writes bench/results/<timestamp>.json. Knobs: BENCH_SECONDS (default 15),
// BENCH_WARMUP_SECONDS (3), BENCH_DATABASE_ADMIN_URL, BENCH_REDIS_URL.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { saleBody, seedShop, startServer } from './lib/app.js';
import { measure, type LoadResult } from './lib/load.js';
import { dropDatabase, pgbench, prepareReference, recreateDatabase } from './lib/reference.js';

const adminUrl =
  process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const load = { connections: 16, warmupSeconds, seconds };
const stamp = new Date().toISOString().replace(/[:.]/g, '-');

const log = (message: string) => process.stdout.write(`${message}\n`);

log('1/3 reference: pgbench sale and catalog scripts on scratch tables');
const referenceUrl = await recreateDatabase(adminUrl, 'bapi_bench_reference');
await prepareReference(referenceUrl);
const lPg = await pgbench(referenceUrl, 'bench/reference/sale.pgb', seconds);
const lCat = await pgbench(referenceUrl, 'bench/reference/catalog.pgb', seconds);
await dropDatabase(adminUrl, 'bapi_bench_reference');
log(`   L_pg = ${lPg.tps.toFixed(0)} sales/s, L_cat = ${lCat.tps.toFixed(0)} queries/s`);

log('2/3 production build and a seeded shop (2,000 products)');
execFileSync('pnpm', ['-s', 'build'], { stdio: 'inherit' });
const appUrl = await recreateDatabase(adminUrl, 'bapi_bench_app');
const shop = await seedShop(appUrl);
const server = await startServer(appUrl, 3917, `bench_${stamp}`);

log('3/3 load');
const pick3 = () => {
  const start = Math.floor(Math.random() * (shop.productIds.length - 3));
  return shop.productIds.slice(start, start + 3);
};
const replaySales = Array.from({ length: 200 }, () => saleBody(pick3()));
for (const sale of replaySales) {
  await fetch(`${server.baseUrl}/sales`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.cashierToken}` },
    body: JSON.stringify(sale),
  });
}
let replayIndex = 0;
const since = new Date(Date.now() - 60_000).toISOString();
const hot = shop.productIds.slice(0, 3);

const results: LoadResult[] = [];
const run = async (...args: Parameters<typeof measure>) => {
  const result = await measure(...args);
  results.push(result);
  log(
    `   ${result.name}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms} ms, errors ${result.errors + result.non2xx}`,
  );
};
const url = server.baseUrl;
await run('GET /health', url, { method: 'GET', path: '/health' }, load);
await run(
  'GET /products?limit=50',
  url,
  { method: 'GET', path: '/products?limit=50', token: shop.cashierToken },
  load,
);
await run(
  'GET /products?updatedSince',
  url,
  {
    method: 'GET',
    path: `/products?limit=50&updatedSince=${encodeURIComponent(since)}`,
    token: shop.cashierToken,
  },
  load,
);
await run(
  'POST /sales (new)',
  url,
  { method: 'POST', path: '/sales', token: shop.cashierToken, body: () => saleBody(pick3()) },
  load,
);
await run(
  'POST /sales (replay)',
  url,
  {
    method: 'POST',
    path: '/sales',
    token: shop.cashierToken,
    body: () => replaySales[replayIndex++ % replaySales.length],
  },
  load,
);
await run(
  'POST /sales/sync (100/request)',
  url,
  {
    method: 'POST',
    path: '/sales/sync',
    token: shop.cashierToken,
    body: () => ({ sales: Array.from({ length: 100 }, () => saleBody(pick3(), randomUUID())) }),
  },
  load,
);
await run(
  'POST /sales (hot: 3 products)',
  url,
  { method: 'POST', path: '/sales', token: shop.cashierToken, body: () => saleBody(hot) },
  load,
);
const peakRssMb = await server.peakRssMb();
const exitCode = await server.stop();
await dropDatabase(adminUrl, 'bapi_bench_app');

const rate = (name: string) => results.find((result) => result.name === name)?.okPerSecond ?? 0;
const newSales = rate('POST /sales (new)');
const ratios = {
  'POST /sales ÷ L_pg (target ≥ 0.6)': newSales / lPg.tps,
  'replay ÷ new sale (target ≥ 2)': rate('POST /sales (replay)') / newSales,
  'sync sales/s ÷ POST /sales (target ≥ 5)':
    (rate('POST /sales/sync (100/request)') * 100) / newSales,
  'GET /products ÷ L_cat (target ≥ 0.2)': rate('GET /products?limit=50') / lCat.tps,
};

log('\n| scenario | req/s | 2xx/s | p50 ms | p99 ms | requests | errors/non-2xx |');
log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  log(
    `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.okPerSecond.toFixed(0)} | ${r.p50Ms} | ${r.p99Ms} | ${r.requests} | ${r.errors}/${r.non2xx} |`,
  );
}
log(
  `\nL_pg ${lPg.tps.toFixed(0)} tps · L_cat ${lCat.tps.toFixed(0)} tps · peak RSS ${peakRssMb.toFixed(0)} MB (target ≤ 250) · server exit ${exitCode}`,
);
for (const [name, value] of Object.entries(ratios)) log(`${name}: ${value.toFixed(2)}`);

await mkdir('bench/results', { recursive: true });
const file = `bench/results/${stamp}.json`;
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), seconds, connections: load.connections, reference: { lPg, lCat }, results, peakRssMb, ratios }, null, 2)}\n`,
);
log(`\nwritten ${file}`);
