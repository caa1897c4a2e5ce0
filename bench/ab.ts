// `pnpm bench:ab <checkout A> <checkout B>`: the CPU cost of a sale and of a 100-sale sync
// batch in two builds of the API (two checkouts, each built), measured alternately on one
// box. Throughput on this shared 2-vCPU machine moves by up to 2× within minutes, which
// hides a 10–20% change; one request at a time, alternating A and B in rounds, both builds
// see the same machine, and CPU per request (API process + its PostgreSQL backend) is
// compared rather than requests per second. Each checkout migrates and seeds its own
// database with its own code (the same shop: 2,000 products, BENCH_HISTORY past sales).
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../test/helpers/process.js';
import {
  consecutiveProducts,
  databaseCpuMs,
  productionNodeOptions,
  saleBody,
  startServer,
  type BenchServer,
  type BenchShop,
  type seedShop,
} from './lib/app.js';
import { dropDatabase, recreateDatabase } from './lib/reference.js';

const [dirA, dirB] = process.argv.slice(2).map((dir) => path.resolve(dir));
if (!dirA || !dirB) throw new Error('usage: pnpm bench:ab <checkout A> <checkout B>');
const env = process.env;
const adminUrl = env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const rounds = Number(env.BENCH_AB_ROUNDS ?? 6);
const salesPerRound = Number(env.BENCH_AB_SALES ?? 150);
const batchesPerRound = Number(env.BENCH_AB_BATCHES ?? 5);
const history = Number(env.BENCH_HISTORY ?? 20_000);
const log = (message: string) => process.stdout.write(`${message}\n`);

interface Side {
  label: string;
  shop: BenchShop;
  server: BenchServer;
  db: pg.Client;
  databaseName: string;
  sale: number[][];
  batch: number[][];
}

async function prepare(label: string, dir: string): Promise<Side> {
  // Seeded with the checkout's own code (its migrations); its build started from here.
  const lib = (await import(path.join(dir, 'bench/lib/app.ts'))) as { seedShop: typeof seedShop };
  const databaseName = `bapi_bench_ab_${label.toLowerCase()}_${process.pid}`;
  const url = await recreateDatabase(adminUrl, databaseName);
  const shop = await lib.seedShop(url, 2000, history);
  const server = await startServer(url, await freePort(), `bench_ab_${label}_${process.pid}`, {
    cwd: dir,
    nodeFlags: await productionNodeOptions(),
    env: serverEnv(env[`BENCH_AB_ENV_${label}`]),
  });
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  return { label, shop, server, db, databaseName, sale: [], batch: [] };
}

/**
 * BENCH_AB_ENV_A / BENCH_AB_ENV_B: more environment for one side's API, as `K=V;K=V`, to
 * compare settings on one build (e.g. `PGOPTIONS=-c plan_cache_mode=force_generic_plan`).
 */
function serverEnv(text: string | undefined): Record<string, string> {
  const pairs = (text ?? '').split(';').filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

async function post(side: Side, route: string, body: unknown, expected: number): Promise<void> {
  const response = await fetch(`${side.server.baseUrl}${route}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${side.shop.cashierToken}`,
    },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  if (response.status !== expected) throw new Error(`${side.label} ${route}: ${response.status}`);
}

const sale = (side: Side) => post(side, '/sales', saleBody(consecutiveProducts(side.shop, 3)), 201);
const batch = (side: Side) =>
  post(
    side,
    '/sales/sync',
    { sales: Array.from({ length: 100 }, () => saleBody(consecutiveProducts(side.shop, 3))) },
    200,
  );

/** API + PostgreSQL CPU ms per call of `step`, over `count` calls one after another. */
async function cpuPer(side: Side, count: number, step: (side: Side) => Promise<void>) {
  const apiBefore = await side.server.cpuMs();
  const dbBefore = await databaseCpuMs(side.db);
  for (let index = 0; index < count; index++) await step(side);
  const api = (await side.server.cpuMs()) - apiBefore;
  const database = (await databaseCpuMs(side.db)) - dbBefore;
  return [api / count, database / count];
}

const sides = [await prepare('A', dirA), await prepare('B', dirB)];
log(`A = ${dirA}\nB = ${dirB}\nwarming up (2,000 sales and 20 batches each)`);
for (const side of sides) {
  for (let index = 0; index < 2000; index++) await sale(side);
  for (let index = 0; index < 20; index++) await batch(side);
}
for (let round = 1; round <= rounds; round++) {
  // A then B in odd rounds, B then A in even ones: a drift within a round cancels out.
  for (const side of round % 2 ? sides : [...sides].reverse()) {
    side.sale.push(await cpuPer(side, salesPerRound, sale));
    side.batch.push(await cpuPer(side, batchesPerRound, batch));
  }
  log(
    `round ${round}: ` +
      sides
        .map(
          (side) =>
            `${side.label} sale ${side.sale
              .at(-1)!
              .map((ms) => ms.toFixed(2))
              .join(' + ')} ms, ` +
            `batch ${side.batch
              .at(-1)!
              .map((ms) => ms.toFixed(1))
              .join(' + ')} ms`,
        )
        .join(' | '),
  );
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
log('\nmedian CPU per request over the rounds (API + PostgreSQL = total), ms');
log('| build | sale API | sale PG | sale total | batch API | batch PG | batch total |');
log('| --- | --- | --- | --- | --- | --- | --- |');
for (const side of sides) {
  const [saleApi, salePg] = [0, 1].map((k) => median(side.sale.map((row) => row[k]!)));
  const [batchApi, batchPg] = [0, 1].map((k) => median(side.batch.map((row) => row[k]!)));
  log(
    `| ${side.label} | ${saleApi!.toFixed(2)} | ${salePg!.toFixed(2)} | ${(saleApi! + salePg!).toFixed(2)} | ` +
      `${batchApi!.toFixed(1)} | ${batchPg!.toFixed(1)} | ${(batchApi! + batchPg!).toFixed(1)} |`,
  );
}

for (const side of sides) {
  await side.db.end();
  await side.server.stop();
  await dropDatabase(adminUrl, side.databaseName);
}
