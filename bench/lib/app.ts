import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { newId } from '../../src/lib/ids.js';
import { AccessTokens } from '../../src/modules/auth/access-token.js';
// A free port for each run, so concurrent runs never collide.
export { freePort } from '../../test/helpers/process.js';

const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux
export const BENCH_JWT_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface BenchServer {
  child: ChildProcess;
  baseUrl: string;
  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb: () => Promise<number>;
  /** CPU time (user + system) the API process has used so far, ms. */
  cpuMs: () => Promise<number>;
  stop: () => Promise<number | null>;
}

/**
 * The production build (`node dist/server.js`, NODE_ENV=production, logs at warn), of
 * this checkout or of `cwd`.
 * `cpuProfileDir`: run under `--cpu-prof`, the profile written there on exit.
 */
export async function startServer(
  databaseUrl: string,
  port: number,
  redisPrefix: string,
  options: {
    poolMax?: string;
    cpuProfileDir?: string;
    nodeFlags?: string;
    cwd?: string;
    /** More environment (bench/tracing.ts: OTEL_*). */
    env?: Record<string, string>;
  } = {},
): Promise<BenchServer> {
  const flags = [
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    ...(options.nodeFlags?.split(' ').filter(Boolean) ?? []),
  ];
  // `cwd`: another checkout's build (bench/ab.ts compares two).
  const child = spawn(process.execPath, [...flags, 'dist/server.js'], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: redisPrefix,
      JWT_SECRET: BENCH_JWT_SECRET,
      RATE_LIMIT_MAX: '100000000',
      // Production refuses to start without these; the bench never calls Daraja.
      MPESA_ENV: 'sandbox',
      MPESA_CONSUMER_KEY: 'bench',
      MPESA_CONSUMER_SECRET: 'bench',
      MPESA_SHORTCODE: '174379',
      MPESA_PASSKEY: 'bench',
      WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64'),
      ...(options.poolMax ? { DATABASE_POOL_MAX: options.poolMax } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000; // a loaded shared box can take a while
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      if (Date.now() > deadline) throw new Error('the server did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    baseUrl,
    peakRssMb: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    },
    cpuMs: () => processCpuMs(child.pid ?? 0),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/**
 * The node flags production runs with: the Dockerfile's `ENV NODE_OPTIONS` (the image is
 * what Compose and Kubernetes run), so the benchmarks measure the same heap settings.
 */
export async function productionNodeOptions(): Promise<string> {
  const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
  return /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1] ?? '';
}

/** A process's CPU time so far (user + system), ms; 0 once it is gone. */
export async function processCpuMs(pid: number): Promise<number> {
  // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): utime, stime in ticks.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Per measuring client: each backend's CPU time when last seen (backends come and go). */
const seenBackends = new WeakMap<pg.Client, Map<number, number>>();

/**
 * CPU time so far of the PostgreSQL backends connected to the client's database, ms,
 * counting backends that have since exited at their last reading: a pool closes a
 * connection after 30 s idle (the API has two pools, and the one a scenario does not use
 * empties), and summing only the live ones went backwards. A closing connection was idle
 * for those 30 s, so its last reading is its total. PostgreSQL runs on this machine.
 */
export async function databaseCpuMs(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  let seen = seenBackends.get(client);
  if (!seen) {
    seen = new Map();
    seenBackends.set(client, seen);
  }
  const readings = await Promise.all(
    rows.map(async (row) => [row.pid, await processCpuMs(row.pid)] as const),
  );
  for (const [pid, ms] of readings) if (ms > 0) seen.set(pid, ms);
  return [...seen.values()].reduce((sum, ms) => sum + ms, 0);
}

export interface BenchShop {
  businessId: string;
  cashierToken: string;
  ownerToken: string;
  /** Product ids (2,000), all priced 100.00 KES with 16% VAT. */
  productIds: string[];
}

/**
 * A shop in a migrated database: an owner, a cashier, `products` products and `history` past
 * sales (3 lines, cash + M-Pesa, their stock movements), analysed. The history matters: on
 * empty tables PostgreSQL plans the hot statements as sequential scans and keeps those plans
 * on the pool's connections while the tables grow, so a bench on an empty database measures
 * its first minutes (until autoanalyze), not a shop in business (bench/README.md).
 */
export async function seedShop(
  databaseUrl: string,
  products = 2000,
  history = 0,
): Promise<BenchShop> {
  const pool = createPool({ url: databaseUrl, poolMax: 2 });
  await runMigrations(pool);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const businessId = newId();
  const ownerId = newId();
  const cashierId = newId();
  const sessionIds = [newId(), newId()];
  await client.query(
    `insert into businesses (id, name, current_period_end) values ($1, 'Bench Shop', now() + interval '30 days')`,
    [businessId],
  );
  for (const [id, role] of [
    [ownerId, 'owner'],
    [cashierId, 'cashier'],
  ] as const) {
    await client.query(
      `insert into users (id, business_id, email, name, password_hash, role) values ($1, $2, $3, $4, 'x', $5)`,
      [id, businessId, `${role}-${randomUUID()}@bench.local`, `Bench ${role}`, role],
    );
  }
  for (const [index, userId] of [ownerId, cashierId].entries()) {
    await client.query(
      `insert into auth_sessions (id, user_id, business_id, expires_at) values ($1, $2, $3, now() + interval '1 day')`,
      [sessionIds[index], userId, businessId],
    );
  }
  const productIds = Array.from({ length: products }, () => newId());
  await client.query(
    `insert into products (id, business_id, name, sku, price, tax_rate, low_stock_threshold)
     select id, $2, 'Product ' || n, 'SKU-' || n, 10000, 1600, 5
     from unnest($1::uuid[]) with ordinality as t(id, n)`,
    [productIds, businessId],
  );
  // The totals live in product_stock (each product's row made by the database with it).
  await client.query(`update product_stock set quantity = 1000000 where business_id = $1`, [
    businessId,
  ]);
  if (history > 0) await seedHistory(client, { businessId, cashierId, productIds, sales: history });
  await client.query('vacuum analyze');
  await client.end();
  await pool.end();

  const tokens = new AccessTokens(loadConfig({ JWT_SECRET: BENCH_JWT_SECRET }).auth);
  const ownerToken = await tokens.sign({
    userId: ownerId,
    businessId,
    role: 'owner',
    sessionId: sessionIds[0]!,
  });
  const cashierToken = await tokens.sign({
    userId: cashierId,
    businessId,
    role: 'cashier',
    sessionId: sessionIds[1]!,
  });
  return { businessId, ownerToken, cashierToken, productIds };
}

/**
 * `sales` past sales over the last 90 days, numbered 1..sales (the counter continues from
 * there), each with 3 consecutive products, a cash and an M-Pesa payment and its movements.
 */
async function seedHistory(
  client: pg.Client,
  shop: { businessId: string; cashierId: string; productIds: string[]; sales: number },
): Promise<void> {
  const { businessId, cashierId, productIds, sales } = shop;
  await client.query(
    `insert into sales (id, business_id, client_request_id, request_hash, number, cashier_id,
       occurred_at, received_at, subtotal, discount, tax, total, change)
     select gen_random_uuid(), $1, gen_random_uuid(), 'bench', i, $2, at, at, 30000, 0, 4138, 30000, 0
     from generate_series(1, $3::int) i,
       lateral (select now() - interval '90 days' * (1 - i::float8 / $3)) t(at)`,
    [businessId, cashierId, sales],
  );
  await client.query(`insert into sale_counters (business_id, last_number) values ($1, $2)`, [
    businessId,
    sales,
  ]);
  // Line k of sale n sells product (3n + k) mod count: every product sells about equally.
  const picked = `($2::uuid[])[1 + ((s.number * 3 + k) % cardinality($2::uuid[]))]`;
  await client.query(
    `insert into sale_lines (id, sale_id, business_id, product_id, position, name, sku, quantity,
       unit_price, catalog_price, tax_rate, discount, sale_discount_share, tax, total)
     select gen_random_uuid(), s.id, s.business_id, ${picked}, k, 'Product', null, 1,
       10000, 10000, 1600, 0, 0, 1379, 10000
     from sales s, generate_series(0, 2) k where s.business_id = $1`,
    [businessId, productIds],
  );
  await client.query(
    `insert into sale_payments (id, sale_id, business_id, position, method, amount, reference)
     select gen_random_uuid(), s.id, s.business_id, k, case k when 0 then 'cash' else 'mpesa' end,
       case k when 0 then 10000 else 20000 end,
       case k when 1 then 'QK' || upper(substr(md5(s.id::text), 1, 8)) end
     from sales s, generate_series(0, 1) k where s.business_id = $1`,
    [businessId],
  );
  await client.query(
    `insert into stock_movements (id, business_id, product_id, type, delta, quantity_after,
       sale_id, created_by, created_at)
     select gen_random_uuid(), l.business_id, l.product_id, 'sale', -1,
       1000000 - row_number() over (partition by l.product_id order by s.occurred_at, l.id),
       l.sale_id, $2, s.occurred_at
     from sale_lines l join sales s on s.id = l.sale_id where l.business_id = $1`,
    [businessId, cashierId],
  );
  // Level = 1,000,000 + the ledger, as the hot-products check expects.
  await client.query(
    `update product_stock ps set quantity = 1000000 + m.total
     from (select product_id, sum(delta) as total from stock_movements
       where business_id = $1 group by product_id) m
     where ps.business_id = $1 and ps.product_id = m.product_id`,
    [businessId],
  );
}

/** `count` products of the shop next to each other, from a random place. */
export function consecutiveProducts(shop: BenchShop, count: number): string[] {
  const start = Math.floor(Math.random() * (shop.productIds.length - count));
  return shop.productIds.slice(start, start + count);
}

/** A sale body of 3 lines (100.00 KES each) paid 100.00 cash + 200.00 M-Pesa. */
export function saleBody(productIds: string[], clientRequestId = randomUUID()) {
  return {
    clientRequestId,
    occurredAt: new Date().toISOString(),
    lines: productIds.map((productId) => ({ productId, quantity: 1 })),
    payments: [
      { method: 'cash', amount: 10000 },
      {
        method: 'mpesa',
        amount: 20000,
        reference: `QK${clientRequestId.slice(0, 8).toUpperCase()}`,
      },
    ],
    total: 30000,
  };
}
