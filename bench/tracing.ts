// `pnpm bench:tracing`: what OpenTelemetry costs on the sale path. Two API processes of this
// build on one seeded shop, both started as production starts them (`--import
// ./dist/otel-register.js`): OFF without OTEL_EXPORTER_OTLP_ENDPOINT (no SDK), ON with it,
// at full sampling (parentbased_always_on, the default), exporting OTLP/protobuf to a real
// receiver in this process. Like bench/ab.ts it measures CPU per sale (API process + its
// PostgreSQL backends) one request at a time, alternating OFF and ON in rounds, because
// throughput on this shared box moves more than the effect; wall time per sale is shown too.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { freePort } from '../test/helpers/process.js';
import {
  consecutiveProducts,
  databaseCpuMs,
  productionNodeOptions,
  saleBody,
  seedShop,
  startServer,
  type BenchServer,
} from './lib/app.js';
import { dropDatabase, recreateDatabase } from './lib/reference.js';

const env = process.env;
const adminUrl = env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const rounds = Number(env.BENCH_TRACING_ROUNDS ?? 8);
const salesPerRound = Number(env.BENCH_TRACING_SALES ?? 200);
const history = Number(env.BENCH_HISTORY ?? 5_000);
const warmup = Number(env.BENCH_TRACING_WARMUP ?? 1_000);
const log = (message: string) => process.stdout.write(`${message}\n`);

// The collector: accepts every export, counts bytes (spans are not decoded here).
let exportRequests = 0;
let exportedBytes = 0;
const collector = http.createServer((req, res) => {
  req.on('data', (chunk: Buffer) => (exportedBytes += chunk.length));
  req.on('end', () => {
    exportRequests++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

const databaseName = `bapi_bench_tracing_${process.pid}`;
const url = await recreateDatabase(adminUrl, databaseName);
const shop = await seedShop(url, 2000, history);
const nodeFlags = `${await productionNodeOptions()} --import ./dist/otel-register.js`;

interface Side {
  label: string;
  server: BenchServer;
  cpu: number[];
  wall: number[];
}
const start = async (label: string, extra: Record<string, string>): Promise<Side> => ({
  label,
  server: await startServer(url, await freePort(), `bench_tr_${label}_${process.pid}`, {
    nodeFlags,
    env: extra,
  }),
  cpu: [],
  wall: [],
});
const sides = [
  await start('off', {}),
  await start('on', {
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    OTEL_SERVICE_NAME: 'bench',
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  }),
];
const db = new pg.Client({ connectionString: url });
await db.connect();

async function sale(side: Side): Promise<void> {
  const response = await fetch(`${side.server.baseUrl}/sales`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.cashierToken}` },
    body: JSON.stringify(saleBody(consecutiveProducts(shop, 3))),
  });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`${side.label}: ${response.status}`);
}

log(`warming up (${warmup} sales each); collector ${collectorUrl}`);
for (const side of sides) for (let index = 0; index < warmup; index++) await sale(side);
for (let round = 1; round <= rounds; round++) {
  for (const side of round % 2 ? sides : [...sides].reverse()) {
    const apiBefore = await side.server.cpuMs();
    const dbBefore = await databaseCpuMs(db);
    const began = performance.now();
    for (let index = 0; index < salesPerRound; index++) await sale(side);
    side.wall.push((performance.now() - began) / salesPerRound);
    const cpu = (await side.server.cpuMs()) - apiBefore + (await databaseCpuMs(db)) - dbBefore;
    side.cpu.push(cpu / salesPerRound);
  }
  log(
    `round ${round}: ` +
      sides
        .map(
          (s) => `${s.label} ${s.cpu.at(-1)!.toFixed(2)} ms CPU, ${s.wall.at(-1)!.toFixed(2)} ms`,
        )
        .join(' | '),
  );
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const [off, on] = sides.map((side) => ({ cpu: median(side.cpu), wall: median(side.wall) }));
log('\nmedian per sale over the rounds (CPU = API process + PostgreSQL backends)');
log('| tracing | CPU ms | wall ms |');
log('| --- | --- | --- |');
log(`| off (no endpoint) | ${off!.cpu.toFixed(2)} | ${off!.wall.toFixed(2)} |`);
log(`| on (always_on, OTLP/protobuf) | ${on!.cpu.toFixed(2)} | ${on!.wall.toFixed(2)} |`);
log(
  `\ncost of tracing: CPU ${(((on!.cpu - off!.cpu) / off!.cpu) * 100).toFixed(1)} %, wall ${(((on!.wall - off!.wall) / off!.wall) * 100).toFixed(1)} %; ` +
    `${exportRequests} export requests, ${(exportedBytes / 1024 / 1024).toFixed(1)} MB`,
);

await db.end();
for (const side of sides) await side.server.stop();
collector.close();
await dropDatabase(adminUrl, databaseName);
