// `pnpm bench`: the reference (pgbench: L_pg, L_cat) and the production build under load
// (autocannon, warm-up first), in one run on this machine. Prints a table with the ratios
// and the checks (replays write nothing, sync writes every sale, hot products: no
// deadlock, stock = ledger) and writes bench/results/<timestamp>.json. See bench/README.md.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import {
  consecutiveProducts,
  databaseCpuMs,
  freePort,
  productionNodeOptions,
  saleBody,
  seedShop,
  startServer,
} from './lib/app.js';
import { measure, once, type LoadOptions, type LoadResult } from './lib/load.js';
import { printTopFrames } from './lib/profile.js';
import {
  dropDatabase,
  pgbenchMedian,
  prepareReference,
  recreateDatabase,
  type PgbenchResult,
} from './lib/reference.js';

const env = process.env;
const adminUrl = env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const seconds = Number(env.BENCH_SECONDS ?? 15);
const warmupSeconds = Number(env.BENCH_WARMUP_SECONDS ?? 3);
const connections = Number(env.BENCH_CONNECTIONS ?? 16);
// Sync batches are few and large: by Little's law 16 batches in flight would put p50 at
// 16 ÷ batches/s, so the sync scenario runs at 4 devices (performance.md measured 1 and 4).
const syncConnections = Number(env.BENCH_SYNC_CONNECTIONS ?? 4);
// `sales` (pnpm bench:sales): L_pg and the sale scenarios only; `catalog`
// (pnpm bench:catalog): L_cat and the read scenarios only. Quicker runs while profiling.
const only = env.BENCH_ONLY === 'sales' || env.BENCH_ONLY === 'catalog' ? env.BENCH_ONLY : 'all';
const withSales = only !== 'catalog';
const withCatalog = only !== 'sales';
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const profileDir = env.BENCH_CPU_PROF ? `bench/results/profile-${stamp}` : undefined;

const log = (message: string) => process.stdout.write(`${message}\n`);
const [loadAverage] = (await import('node:os')).loadavg();

log(
  `1/3 reference: pgbench on scratch tables in its own database (load average ${loadAverage?.toFixed(2)})`,
);
const referenceUrl = await recreateDatabase(adminUrl, `bapi_bench_reference_${process.pid}`);
await prepareReference(referenceUrl);
const skipped = { tps: 0, latencyAvgMs: 0, failed: 0 };
const referenceRuns = Number(env.BENCH_REFERENCE_RUNS ?? 3);
const lPg = withSales
  ? await pgbenchMedian(referenceUrl, 'bench/reference/sale.pgb', seconds, referenceRuns)
  : skipped;
const lCat = withCatalog
  ? await pgbenchMedian(referenceUrl, 'bench/reference/catalog.pgb', seconds, referenceRuns)
  : skipped;
await dropDatabase(adminUrl, `bapi_bench_reference_${process.pid}`);
const runsOf = (result: PgbenchResult) =>
  result.runs && result.runs.length > 1
    ? ` (median of ${result.runs.map((tps) => tps.toFixed(0)).join(' / ')})`
    : '';
log(
  `   L_pg = ${lPg.tps.toFixed(0)} sales/s${runsOf(lPg)}, L_cat = ${lCat.tps.toFixed(0)} queries/s${runsOf(lCat)}`,
);

log('2/3 production build and a seeded shop (2,000 products)');
if (!env.BENCH_SKIP_BUILD) execFileSync('pnpm', ['-s', 'build'], { stdio: 'inherit' });
const appUrl = await recreateDatabase(adminUrl, `bapi_bench_app_${process.pid}`);
const history = Number(env.BENCH_HISTORY ?? 20_000);
const shop = await seedShop(appUrl, 2000, history);
// L_pg spreads its sales over 100 businesses; one shop's sales are serialised by design (the
// gap-free sale number and the catalog write order are per business), so new sales are
// also measured spread over several shops.
const shopCount = Number(env.BENCH_SHOPS ?? 16);
const shops: Awaited<ReturnType<typeof seedShop>>[] = [];
for (let index = 0; index < shopCount; index++)
  shops.push(await seedShop(appUrl, 200, Math.ceil(history / 10)));
const server = await startServer(appUrl, await freePort(), `bench_${stamp}`, {
  poolMax: env.DATABASE_POOL_MAX,
  cpuProfileDir: profileDir,
  // The Dockerfile's NODE_OPTIONS unless BENCH_NODE_FLAGS tries others (" " for none).
  nodeFlags: env.BENCH_NODE_FLAGS ?? (await productionNodeOptions()),
});
const db = new pg.Client({ connectionString: appUrl });
await db.connect();
const count = async (table: string) =>
  Number((await db.query(`select count(*)::int as n from ${table}`)).rows[0].n);
const deadlocks = async () => {
  // Statistics reach pg_stat_database within a second of the transaction.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await db.query(
    'select deadlocks::int as n from pg_stat_database where datname = current_database()',
  );
  return Number(rows[0].n);
};

log('3/3 load');
const pick3 = () => consecutiveProducts(shop, 3);
const url = server.baseUrl;
const auth = { 'content-type': 'application/json', authorization: `Bearer ${shop.cashierToken}` };
const replaySales = Array.from({ length: 200 }, () => saleBody(pick3()));
for (const sale of replaySales) {
  const response = await fetch(`${url}/sales`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify(sale),
  });
  if (response.status !== 201) throw new Error(`seeding a replay sale: ${response.status}`);
}
let replayIndex = 0;
const since = new Date(Date.now() - 60_000).toISOString();
const hot = shop.productIds.slice(0, 3);

// V8 compiles the API's code while it runs: measured one sale after another, a sale cost
// 8.9 ms of API CPU over the first 500 and 4.5 ms after 4,000 (bench/README.md). A
// production process serves for hours, so the server is warmed up on what the scenarios
// send before any of them (each still has its own short warm-up).
const serverWarmupSeconds = Number(env.BENCH_SERVER_WARMUP_SECONDS ?? 20);
if (serverWarmupSeconds > 0) {
  log(`   warming the server up (${serverWarmupSeconds} s)`);
  const share = withSales && withCatalog ? 0.5 : 1;
  if (withSales) {
    const newSale = {
      method: 'POST',
      path: '/sales',
      token: shop.cashierToken,
      body: () => saleBody(pick3()),
    } as const;
    await once(url, newSale, connections, Math.ceil(serverWarmupSeconds * share));
  }
  if (withCatalog) {
    const page = { method: 'GET', path: '/products?limit=50', token: shop.cashierToken } as const;
    await once(url, page, connections, Math.ceil(serverWarmupSeconds * share));
  }
}

// BENCH_SCENARIOS=sync,replay: only the scenarios whose name contains one of these words
// (e.g. to profile one route alone).
const picked = env.BENCH_SCENARIOS?.split(',').map((word) => word.trim().toLowerCase());
const results: LoadResult[] = [];
const run = async (
  name: string,
  request: Parameters<typeof measure>[2],
  options: Partial<LoadOptions> = {},
) => {
  if (picked && !picked.some((word) => name.toLowerCase().includes(word))) return;
  const result = await measure(name, url, request, {
    connections,
    warmupSeconds,
    seconds,
    serverCpuMs: server.cpuMs,
    databaseCpuMs: () => databaseCpuMs(db),
    ...options,
  });
  results.push(result);
  const checks = Object.entries(result.checks).map(([key, value]) => `${key} ${String(value)}`);
  log(
    `   ${result.name}: ${result.okPerSecond.toFixed(0)} 2xx/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}/${result.non2xx}${checks.length ? `, ${checks.join(', ')}` : ''}`,
  );
};

if (withCatalog) {
  await run('GET /health', { method: 'GET', path: '/health' });
  await run('GET /products?limit=50', {
    method: 'GET',
    path: '/products?limit=50',
    token: shop.cashierToken,
  });
  // A device revalidating its first page: If-None-Match of the page's current ETag → 304,
  // answered from the Redis catalog cache without PostgreSQL (only 304s count).
  const current = await fetch(`${url}/products?limit=50`, {
    headers: { authorization: `Bearer ${shop.cashierToken}` },
  });
  await current.arrayBuffer();
  await run(
    'GET /products?limit=50 (304)',
    {
      method: 'GET',
      path: '/products?limit=50',
      token: shop.cashierToken,
      headers: { 'if-none-match': current.headers.get('etag') ?? '' },
    },
    { okStatus: 304 },
  );
  await run('GET /products?updatedSince', {
    method: 'GET',
    path: `/products?limit=50&updatedSince=${encodeURIComponent(since)}`,
    token: shop.cashierToken,
  });
}
if (withSales) {
  await run('POST /sales (new)', {
    method: 'POST',
    path: '/sales',
    token: shop.cashierToken,
    body: () => saleBody(pick3()),
  });

  await run(`POST /sales (new, ${shopCount} shops)`, {
    method: 'POST',
    path: '/sales',
    perRequest: () => {
      const other = shops[Math.floor(Math.random() * shops.length)] ?? shop;
      return { token: other.cashierToken, body: saleBody(consecutiveProducts(other, 3)) };
    },
  });

  // Replays must never write: count the rows a sale writes before and after the measured run.
  const written = async () => ({
    sales: await count('sales'),
    movements: await count('stock_movements'),
    outbox: await count('outbox'),
  });
  let before = await written();
  await run(
    'POST /sales (replay)',
    {
      method: 'POST',
      path: '/sales',
      token: shop.cashierToken,
      body: () => replaySales[replayIndex++ % replaySales.length],
    },
    {
      before: async () => {
        before = await written();
      },
      after: async () => {
        const after = await written();
        return {
          'rows written': after.sales - before.sales + after.movements - before.movements,
          'outbox rows written': after.outbox - before.outbox,
        };
      },
    },
  );

  // Every sale of a 2xx batch is written (all are new and valid). Batches still in flight
  // when the run ends finish afterwards, so up to connections × 100 more may be written.
  // Run at 4 devices (throughput) and at 1 (a batch's own latency: one shop's batches
  // queue behind each other on its sale numbering, so p50 at 4 is about 4 batches long).
  for (const devices of [syncConnections, 1]) {
    let salesBefore = 0;
    await run(
      devices === syncConnections
        ? 'POST /sales/sync (100/request)'
        : `POST /sales/sync (100/request, ${devices} device)`,
      {
        method: 'POST',
        path: '/sales/sync',
        token: shop.cashierToken,
        body: () => ({
          sales: Array.from({ length: 100 }, () => saleBody(pick3(), randomUUID())),
        }),
      },
      {
        connections: devices,
        before: async () => {
          salesBefore = await count('sales');
        },
        after: async (result) => {
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          const writtenSales = (await count('sales')) - salesBefore;
          const answered = (result.requests.total - result.non2xx) * 100;
          return {
            'sales answered 2xx': answered,
            'sales written': writtenSales,
            'every answered sale written': writtenSales >= answered,
          };
        },
      },
    );
  }

  // 16 clients selling the same 3 products: row locks serialise them; nothing may deadlock,
  // fail, or let a product's stock drift from its ledger.
  let deadlocksBefore = 0;
  await run(
    'POST /sales (hot: 3 products)',
    { method: 'POST', path: '/sales', token: shop.cashierToken, body: () => saleBody(hot) },
    {
      before: async () => {
        deadlocksBefore = await deadlocks();
      },
      after: async () => {
        const { rows } = await db.query<{ drift: number }>(
          `select count(*)::int as drift from product_stock ps
         where ps.product_id = any($1::uuid[]) and ps.quantity <>
           1000000 + (select coalesce(sum(delta), 0) from stock_movements m
             where m.product_id = ps.product_id)`,
          [hot],
        );
        return {
          deadlocks: (await deadlocks()) - deadlocksBefore,
          'products whose stock ≠ ledger': rows[0]?.drift ?? -1,
        };
      },
    },
  );
}

const peakRssMb = await server.peakRssMb();
const exitCode = await server.stop();
await db.end();
await dropDatabase(adminUrl, `bapi_bench_app_${process.pid}`);

const find = (name: string) => results.find((result) => result.name === name);
const rate = (name: string) => find(name)?.okPerSecond ?? 0;
const newSales = rate('POST /sales (new)');
const ratios: Record<string, number> = {
  ...(withSales
    ? {
        'POST /sales ÷ L_pg (target ≥ 0.6)': newSales / lPg.tps,
        [`POST /sales over ${shopCount} shops ÷ L_pg`]:
          rate(`POST /sales (new, ${shopCount} shops)`) / lPg.tps,
        'replay ÷ new sale (target ≥ 2)': rate('POST /sales (replay)') / newSales,
        'sync sales/s ÷ POST /sales (target ≥ 5)':
          (rate('POST /sales/sync (100/request)') * 100) / newSales,
      }
    : {}),
  ...(withCatalog
    ? {
        'GET /products ÷ L_cat (target ≥ 0.2)': rate('GET /products?limit=50') / lCat.tps,
        '304 revalidation ÷ L_cat (target ≥ 0.5)': rate('GET /products?limit=50 (304)') / lCat.tps,
        'GET /health ÷ L_cat': rate('GET /health') / lCat.tps,
      }
    : {}),
};

log(
  `\n| scenario | conns | 2xx/s | p50 ms | p99 ms | requests | errors/non-2xx | API CPU ms/req | PG CPU ms/req |`,
);
log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  log(
    `| ${r.name} | ${r.connections} | ${r.okPerSecond.toFixed(0)} | ${r.p50Ms} | ${r.p99Ms} | ${r.requests} | ${r.errors}/${r.non2xx} | ${r.serverCpuMsPerRequest.toFixed(2)} | ${r.databaseCpuMsPerRequest.toFixed(2)} |`,
  );
}
log(
  `\nload average ${loadAverage?.toFixed(2)} at start · L_pg ${lPg.tps.toFixed(0)} tps · L_cat ${lCat.tps.toFixed(0)} tps · peak RSS ${peakRssMb.toFixed(0)} MB (target ≤ 250) · server exit ${exitCode}`,
);
for (const [name, value] of Object.entries(ratios)) log(`${name}: ${value.toFixed(2)}`);
for (const r of results) {
  if (Object.keys(r.checks).length > 0) log(`${r.name}: ${JSON.stringify(r.checks)}`);
}

await mkdir('bench/results', { recursive: true });
const file = `bench/results/${stamp}.json`;
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), loadAverage, seconds, connections, syncConnections, reference: { lPg, lCat }, results, peakRssMb, ratios }, null, 2)}\n`,
);
log(`\nwritten ${file}`);

if (profileDir) {
  for (const name of await readdir(profileDir)) {
    if (name.endsWith('.cpuprofile')) await printTopFrames(`${profileDir}/${name}`, 30, log);
  }
}
