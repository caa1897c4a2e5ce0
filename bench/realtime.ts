// `pnpm bench:realtime`: live updates at scale on this box. The production build (API +
// worker) on a fresh database; 5,000 authenticated /realtime sockets of 50 businesses (100
// users each: 1 owner, 9 managers, 90 cashiers) held by this process. Reports the connect
// time, the API's RSS growth for the sockets (target ≤ 150 MB), the delivery latency of a
// sale.created to its business's sockets (commit → received, target p99 ≤ 250 ms), and
// POST /sales throughput with the sockets connected against without (target ≥ 90 %).
// The machine is shared: figures move with whatever else runs (bench/README.md).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { WebSocket } from 'ws';
import { loadConfig } from '../src/config.js';
import { newId } from '../src/lib/ids.js';
import { AccessTokens } from '../src/modules/auth/access-token.js';
import {
  BENCH_JWT_SECRET,
  consecutiveProducts,
  freePort,
  productionNodeOptions,
  saleBody,
  seedShop,
  startServer,
} from './lib/app.js';
import { measure } from './lib/load.js';
import { dropDatabase, recreateDatabase } from './lib/reference.js';

const env = process.env;
const adminUrl = env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const businesses = Number(env.BENCH_BUSINESSES ?? 50);
const usersPerBusiness = Number(env.BENCH_USERS ?? 100);
const loadSeconds = Number(env.BENCH_SECONDS ?? 15);
const loadConnections = Number(env.BENCH_CONNECTIONS ?? 8);
const latencySales = Number(env.BENCH_LATENCY_SALES ?? 200);
const log = (message: string) => process.stdout.write(`${message}\n`);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

if (!env.BENCH_SKIP_BUILD) execFileSync('pnpm', ['-s', 'build'], { stdio: 'inherit' });
const databaseName = `bapi_bench_realtime_${process.pid}`;
const databaseUrl = await recreateDatabase(adminUrl, databaseName);
const shop = await seedShop(databaseUrl, 2000, Number(env.BENCH_HISTORY ?? 5_000));
const prefix = `bench_realtime_${process.pid}`;

// 49 more businesses and 100 users in each (the seeded shop gets 98 more), one session each.
interface Seat {
  businessId: string;
  token: string;
  role: 'owner' | 'manager' | 'cashier';
}
const tokens = new AccessTokens(loadConfig({ JWT_SECRET: BENCH_JWT_SECRET }).auth);
const seats: Seat[] = [
  { businessId: shop.businessId, token: shop.ownerToken, role: 'owner' },
  { businessId: shop.businessId, token: shop.cashierToken, role: 'cashier' },
];
{
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const businessIds = [shop.businessId, ...Array.from({ length: businesses - 1 }, () => newId())];
  for (const businessId of businessIds.slice(1)) {
    await client.query(
      `insert into businesses (id, name, current_period_end) values ($1, 'Bench Shop', now() + interval '30 days')`,
      [businessId],
    );
  }
  for (const businessId of businessIds) {
    const existing = businessId === shop.businessId ? 2 : 0;
    const rows = Array.from({ length: usersPerBusiness - existing }, (_, n) => {
      const index = n + existing;
      const role: Seat['role'] = index === 0 ? 'owner' : index < 10 ? 'manager' : 'cashier';
      return { userId: newId(), sessionId: newId(), role };
    });
    await client.query(
      `insert into users (id, business_id, email, name, password_hash, role)
       select u.id, $2, 'bench-' || u.id || '@bench.local', 'Bench user', 'x', u.role
       from unnest($1::uuid[], $3::text[]) as u(id, role)`,
      [rows.map((row) => row.userId), businessId, rows.map((row) => row.role)],
    );
    await client.query(
      `insert into auth_sessions (id, user_id, business_id, expires_at)
       select s.id, s.user_id, $3, now() + interval '1 day'
       from unnest($1::uuid[], $2::uuid[]) as s(id, user_id)`,
      [rows.map((row) => row.sessionId), rows.map((row) => row.userId), businessId],
    );
    for (const row of rows) {
      seats.push({
        businessId,
        role: row.role,
        token: await tokens.sign({
          userId: row.userId,
          businessId,
          role: row.role,
          sessionId: row.sessionId,
        }),
      });
    }
  }
  await client.query('vacuum analyze');
  await client.end();
}
log(`${seats.length} users in ${businesses} businesses seeded`);

const nodeFlags = await productionNodeOptions();
const server = await startServer(databaseUrl, await freePort(), prefix, {
  nodeFlags,
  env: { REALTIME_MAX_CONNECTIONS_PER_BUSINESS: String(usersPerBusiness) },
});
const worker = spawn(
  process.execPath,
  [...nodeFlags.split(' ').filter(Boolean), 'dist/worker.js'],
  {
    env: {
      PATH: env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      REDIS_URL: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: prefix,
      JWT_SECRET: BENCH_JWT_SECRET,
      MPESA_ENV: 'sandbox',
      MPESA_CONSUMER_KEY: 'bench',
      MPESA_CONSUMER_SECRET: 'bench',
      MPESA_SHORTCODE: '174379',
      MPESA_PASSKEY: 'bench',
      WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const rssMb = async (pid: number) => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
};
const apiPid = server.child.pid ?? 0;

const salesLoad = (name: string, warmupSeconds = 3) =>
  measure(
    name,
    server.baseUrl,
    {
      method: 'POST',
      path: '/sales',
      perRequest: () => ({
        token: shop.cashierToken,
        body: saleBody(consecutiveProducts(shop, 3), randomUUID()),
      }),
    },
    {
      connections: loadConnections,
      warmupSeconds,
      seconds: loadSeconds,
      serverCpuMs: server.cpuMs,
    },
  );

// 1. Sale throughput without sockets.
// The first warm-up is longer: V8 compiles the API as it runs (bench/README.md).
const without1 = await salesLoad('POST /sales without sockets', 15);
log(`without sockets: ${without1.okPerSecond.toFixed(0)} sales/s (p99 ${without1.p99Ms} ms)`);

// 2. 5,000 sockets: connect and authenticate, 200 at a time.
await new Promise((resolve) => setTimeout(resolve, 2_000));
const rssBefore = await rssMb(apiPid);
const wsUrl = `${server.baseUrl.replace('http', 'ws')}/realtime`;
// sale id → when each socket received it (ms since the epoch)
const received = new Map<string, number[]>();
// sale id → when POST /sales answered (the commit happened before the answer)
const answeredAt = new Map<string, number>();
// sale id → the event's timestamp (the outbox row's created_at: the sale transaction's start)
const writtenAt = new Map<string, number>();
const sockets: WebSocket[] = [];
const connectMs: number[] = [];
let unexpectedCloses = 0;
const open = (seat: Seat) =>
  new Promise<void>((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', accessToken: seat.token })));
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as {
        type: string;
        timestamp?: string;
        data?: { id?: string };
      };
      if (message.type === 'ready') {
        connectMs.push(performance.now() - started);
        resolve();
      } else if (message.type === 'sale.created' && message.data?.id && message.timestamp) {
        const list = received.get(message.data.id) ?? [];
        list.push(Date.now());
        received.set(message.data.id, list);
        writtenAt.set(message.data.id, Date.parse(message.timestamp));
      }
    });
    ws.on('close', (code) => {
      if (code !== 1000 && code !== 1005) unexpectedCloses += 1;
      reject(new Error(`closed ${code}`));
    });
    ws.on('error', reject);
    sockets.push(ws);
  });
const connectStarted = performance.now();
for (let start = 0; start < seats.length; start += 200) {
  await Promise.all(seats.slice(start, start + 200).map(open));
}
const connectSeconds = (performance.now() - connectStarted) / 1000;
await new Promise((resolve) => setTimeout(resolve, 3_000));
const rssAfter = await rssMb(apiPid);
log(
  `${sockets.length} sockets in ${connectSeconds.toFixed(1)} s (open→ready p50 ${percentile(connectMs, 50).toFixed(0)} ms, p99 ${percentile(connectMs, 99).toFixed(0)} ms); API RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`,
);

// 3. Delivery latency: sales one after the other (4 at a time) to the seeded shop, whose 100
// sockets include its owner and 8 managers (see every sale) and the selling cashier (their own).
const saleIds: string[] = [];
for (let n = 0; n < latencySales; n += 4) {
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      const response = await fetch(`${server.baseUrl}/sales`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${shop.cashierToken}`,
        },
        body: JSON.stringify(saleBody(consecutiveProducts(shop, 3))),
      });
      const body = (await response.json()) as { id: string };
      answeredAt.set(body.id, Date.now());
      saleIds.push(body.id);
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const audience = seats.filter(
  (seat) =>
    seat.businessId === shop.businessId &&
    (seat.role !== 'cashier' || seat.token === shop.cashierToken),
).length;
const deadline = Date.now() + 15_000;
while (saleIds.some((id) => (received.get(id)?.length ?? 0) < audience) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
// Two bounds on commit → socket: from the sale transaction's start (includes the sale's own
// work: an upper bound) and from the HTTP answer (after the commit: a lower bound, 0 when the
// event beat the answer).
const latencies = saleIds.flatMap((id) =>
  (received.get(id) ?? []).map((at) => at - (writtenAt.get(id) ?? at)),
);
const afterAnswer = saleIds.flatMap((id) =>
  (received.get(id) ?? []).map((at) => Math.max(0, at - (answeredAt.get(id) ?? at))),
);
const missing = saleIds.length * audience - latencies.length;
log(
  `delivery of ${saleIds.length} sale.created to ${audience} sockets each: from the transaction start p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms; from the HTTP answer p50 ${percentile(afterAnswer, 50)} ms, p99 ${percentile(afterAnswer, 99)} ms; missing ${missing}`,
);

// 4. Sale throughput with the sockets connected (every sale reaches 10 of them), and the
// delivery of those sales while the API is at full sale load: every sale written in the run
// must reach its audience, latency from the sale transaction's start (the answer's instant
// is not known per request under autocannon).
const loadStartedAt = new Date();
const withSockets = await salesLoad(`POST /sales with ${sockets.length} sockets`);
log(`with sockets: ${withSockets.okPerSecond.toFixed(0)} sales/s (p99 ${withSockets.p99Ms} ms)`);
const rssLoaded = await rssMb(apiPid);
const underLoad = await (async () => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ id: string }>(
    'select id from sales where business_id = $1 and received_at >= $2',
    [shop.businessId, loadStartedAt],
  );
  await client.end();
  const ids = rows.map((row) => row.id);
  const settle = Date.now() + 15_000;
  while (ids.some((id) => (received.get(id)?.length ?? 0) < audience) && Date.now() < settle) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const latency = ids.flatMap((id) =>
    (received.get(id) ?? []).map((at) => at - (writtenAt.get(id) ?? at)),
  );
  return { sales: ids.length, latency, missing: ids.length * audience - latency.length };
})();
log(
  `delivery under sale load: ${underLoad.sales} sales × ${audience} sockets, from the transaction start p50 ${percentile(underLoad.latency, 50)} ms, p99 ${percentile(underLoad.latency, 99)} ms; missing ${underLoad.missing}`,
);

// 5. Without again (the shared machine drifts; the reference is the mean of both).
for (const ws of sockets) ws.close(1000);
await new Promise((resolve) => setTimeout(resolve, 3_000));
const without2 = await salesLoad('POST /sales without sockets (again)');
log(`without sockets again: ${without2.okPerSecond.toFixed(0)} sales/s`);
const reference = (without1.okPerSecond + without2.okPerSecond) / 2;

const summary = {
  sockets: sockets.length,
  businesses,
  connectSeconds: Number(connectSeconds.toFixed(1)),
  connectP50Ms: Math.round(percentile(connectMs, 50)),
  connectP99Ms: Math.round(percentile(connectMs, 99)),
  rssBeforeMb: Math.round(rssBefore),
  rssWithSocketsMb: Math.round(rssAfter),
  rssGrowthMb: Math.round(rssAfter - rssBefore),
  rssUnderLoadMb: Math.round(rssLoaded),
  deliveryFromTransactionStartP50Ms: percentile(latencies, 50),
  deliveryFromTransactionStartP99Ms: percentile(latencies, 99),
  deliveryFromAnswerP50Ms: percentile(afterAnswer, 50),
  deliveryFromAnswerP99Ms: percentile(afterAnswer, 99),
  deliveriesMissing: missing,
  underLoadSales: underLoad.sales,
  underLoadDeliveryFromTransactionStartP50Ms: percentile(underLoad.latency, 50),
  underLoadDeliveryFromTransactionStartP99Ms: percentile(underLoad.latency, 99),
  underLoadDeliveriesMissing: underLoad.missing,
  salesPerSecondWithout: Number(reference.toFixed(1)),
  salesPerSecondWith: Number(withSockets.okPerSecond.toFixed(1)),
  throughputRatio: Number((withSockets.okPerSecond / reference).toFixed(3)),
  unexpectedCloses,
  errors: {
    without1: without1.errors + without1.non2xx,
    with: withSockets.errors + withSockets.non2xx,
    without2: without2.errors + without2.non2xx,
  },
};
log(`\n${JSON.stringify(summary, null, 2)}`);

worker.kill('SIGTERM');
await server.stop();
await new Promise((resolve) => worker.once('exit', resolve));
await dropDatabase(adminUrl, databaseName);
