// `pnpm bench:memory`: the production build under the worst request mix for memory — many
// concurrent /sales/sync batches of the largest valid size (100 sales × 200 lines) plus
// oversized garbage bodies — and prints the API's peak RSS and whether it survived. Run it
// after changing the heap flags (Dockerfile NODE_OPTIONS) or the body limits.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  consecutiveProducts,
  freePort,
  productionNodeOptions,
  saleBody,
  seedShop,
  startServer,
} from './lib/app.js';
import { dropDatabase, recreateDatabase } from './lib/reference.js';

const env = process.env;
const adminUrl = env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const concurrency = Number(env.BENCH_CONNECTIONS ?? 16);
const rounds = Number(env.BENCH_ROUNDS ?? 3);
const log = (message: string) => process.stdout.write(`${message}\n`);

if (!env.BENCH_SKIP_BUILD) execFileSync('pnpm', ['-s', 'build'], { stdio: 'inherit' });
const appUrl = await recreateDatabase(adminUrl, `bapi_bench_memory_${process.pid}`);
const shop = await seedShop(appUrl);
const nodeFlags = env.BENCH_NODE_FLAGS ?? (await productionNodeOptions());
const server = await startServer(appUrl, await freePort(), `bench_memory_${Date.now()}`, {
  nodeFlags,
});
log(`API started with node flags: ${nodeFlags || '(none)'}`);

const biggestBatch = () => ({
  sales: Array.from({ length: 100 }, () => {
    const sale = saleBody(consecutiveProducts(shop, 200), randomUUID());
    // 200 lines at 1 × 100.00 each: 20,000.00 paid in cash.
    return { ...sale, payments: [{ method: 'cash', amount: 2_000_000 }], total: 2_000_000 };
  }),
});
// Valid JSON just under the 5 MB limit that fails validation: parsed, then refused.
const garbage = JSON.stringify({ sales: [{ note: 'x'.repeat(5_000_000 - 100) }] });

const statuses = new Map<number | string, number>();
const count = (key: number | string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
const post = async (body: string) => {
  try {
    const response = await fetch(`${server.baseUrl}/sales/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.cashierToken}` },
      body,
    });
    await response.arrayBuffer();
    count(response.status);
  } catch (error) {
    count((error as Error).message);
  }
};

const started = Date.now();
for (let round = 0; round < rounds; round++) {
  await Promise.all(
    Array.from({ length: concurrency }, (_, index) =>
      post(index % 4 === 3 ? garbage : JSON.stringify(biggestBatch())),
    ),
  );
  log(`round ${round + 1}/${rounds}: peak RSS so far ${(await server.peakRssMb()).toFixed(0)} MB`);
}
const alive = (await fetch(`${server.baseUrl}/health`).catch(() => null))?.status === 200;
const peakRssMb = await server.peakRssMb();
const exitCode = await server.stop();
await dropDatabase(adminUrl, `bapi_bench_memory_${process.pid}`);
log(
  `\n${rounds} rounds × ${concurrency} concurrent /sales/sync (3 in 4 the largest valid batch, 1 in 4 a 5 MB invalid body) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
log(`answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
log(`peak RSS ${peakRssMb.toFixed(0)} MB · alive after: ${alive} · exit ${exitCode}`);
