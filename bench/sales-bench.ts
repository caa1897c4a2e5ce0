// Load benchmark for the sale path: POST /sales (new sales), POST /sales replays, and
// POST /sales/sync (batches of 100). Run: `pnpm bench:sales`.
// It makes its own database on BENCH_DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// starts the API as a separate process (so the load generator does not share its event
// loop), and drops the database at the end. Knobs: BENCH_SECONDS (10), BENCH_CONNECTIONS (16).
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.js';
import { createDb, createPool } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { authSessions, businesses, products, users } from '../src/db/schema/index.js';
import { newId } from '../src/lib/ids.js';
import { AccessTokens } from '../src/modules/auth/access-token.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 10);
const connections = Number(env.BENCH_CONNECTIONS ?? 16);
const adminUrl = env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const jwtSecret = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const databaseName = `bapi_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database ${databaseName}`);
const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = `/${databaseName}`;

const serverEnv = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATABASE_URL: databaseUrl.toString(),
  DATABASE_POOL_MAX: env.DATABASE_POOL_MAX ?? '16',
  MIGRATE_ON_START: 'false',
  REDIS_URL: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: `bench_${databaseName}`,
  JWT_SECRET: jwtSecret,
  RATE_LIMIT_MAX: '100000000',
};
const config = loadConfig(serverEnv);
const pool = createPool({ url: databaseUrl.toString(), poolMax: 2 });
await runMigrations(pool);
const db = createDb(pool);

// One business, one cashier, 50 tracked products.
const businessId = newId();
const userId = newId();
const sessionId = newId();
await db.insert(businesses).values({
  id: businessId,
  name: 'Bench Shop',
  currentPeriodEnd: new Date(Date.now() + 14 * 86_400_000),
});
await db.insert(users).values({
  id: userId,
  businessId,
  email: `bench-${userId}@example.test`,
  name: 'Bench Cashier',
  passwordHash: 'x',
  role: 'cashier',
});
await db.insert(authSessions).values({
  id: sessionId,
  userId,
  businessId,
  expiresAt: new Date(Date.now() + 86_400_000),
});
const productIds = Array.from({ length: 50 }, () => newId());
await db.insert(products).values(
  productIds.map((id, index) => ({
    id,
    businessId,
    name: `Product ${index}`,
    price: 100 + index,
    stockQuantity: 1_000_000,
  })),
);
await pool.end();
const token = await new AccessTokens(config.auth).sign(
  { userId, businessId, role: 'cashier', sessionId },
  new Date(),
);

const port = await freePort();
const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  env: { PATH: env.PATH, HOME: env.HOME, ...serverEnv, PORT: String(port), HOST: '127.0.0.1' },
  stdio: 'inherit',
});
const origin = `http://127.0.0.1:${port}`;
for (let attempt = 0; ; attempt++) {
  try {
    await fetch(`${origin}/health`);
    break;
  } catch (error) {
    if (attempt > 300) throw error;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function saleBody() {
  const lines = Array.from({ length: 3 }, (_, index) => ({
    productId: productIds[Math.floor(Math.random() * productIds.length)] ?? '',
    quantity: index + 1,
  }));
  return {
    clientRequestId: randomUUID(),
    occurredAt: new Date().toISOString(),
    lines,
    payments: [{ method: 'cash', amount: 1_000_000 }],
  };
}

const client = new Pool(origin, { connections, pipelining: 1 });
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

interface PhaseResult {
  phase: string;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

async function phase(
  name: string,
  path: string,
  body: () => unknown,
  expected: number,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        const begin = performance.now();
        const response = await client.request({
          method: 'POST',
          path,
          headers,
          body: JSON.stringify(body()),
        });
        await response.body.dump();
        latencies.push(performance.now() - begin);
        if (response.statusCode !== expected) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(1));
  return {
    phase: name,
    requests: latencies.length,
    perSecond: Math.round(latencies.length / elapsed),
    p50: at(0.5),
    p99: at(0.99),
    errors,
  };
}

const replayed = saleBody();
const results: PhaseResult[] = [];
try {
  await phase('warm-up', '/sales', saleBody, 201);
  results.push(await phase('POST /sales (new sale)', '/sales', saleBody, 201));
  results.push(await phase('POST /sales (replay)', '/sales', () => replayed, 200));
  const syncConnections = Math.min(connections, 4);
  const syncClient = new Pool(origin, { connections: syncConnections });
  const batch = () => ({ sales: Array.from({ length: 100 }, saleBody) });
  const syncResult = await (async () => {
    const latencies: number[] = [];
    const until = Date.now() + seconds * 1000;
    const started = performance.now();
    let errors = 0;
    await Promise.all(
      Array.from({ length: syncConnections }, async () => {
        while (Date.now() < until) {
          const begin = performance.now();
          const response = await syncClient.request({
            method: 'POST',
            path: '/sales/sync',
            headers,
            body: JSON.stringify(batch()),
          });
          const parsed = (await response.body.json()) as { results?: { status: string }[] };
          if (parsed.results?.some((result) => result.status !== 'created')) errors++;
          latencies.push(performance.now() - begin);
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(1));
    return {
      phase: `POST /sales/sync (100 sales, ${syncConnections} clients)`,
      requests: latencies.length,
      perSecond: Math.round((latencies.length * 100) / elapsed),
      p50: at(0.5),
      p99: at(0.99),
      errors,
    };
  })();
  results.push(syncResult);
  await syncClient.close();
} finally {
  await client.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await admin.query(`drop database if exists ${databaseName} with (force)`);
  await admin.end();
}

console.log(
  `\n${seconds}s per phase, ${connections} connections, DATABASE_POOL_MAX=${serverEnv.DATABASE_POOL_MAX}`,
);
console.log('phase | requests | per second (sales/s for sync) | p50 ms | p99 ms | errors');
for (const row of results) {
  console.log(
    `${row.phase} | ${row.requests} | ${row.perSecond} | ${row.p50} | ${row.p99} | ${row.errors}`,
  );
}
