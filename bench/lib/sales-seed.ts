// A throwaway database with one business and many sales, seeded with set-based SQL (no API
// round trips): the fixture of the report benchmarks.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';

export interface SeededShop {
  databaseUrl: string;
  businessId: string;
  cashierId: string;
  /** Drops the database. */
  drop: () => Promise<void>;
}

const adminUrl =
  process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Creates a database, migrates it and seeds `sales` sales spread evenly over `days` days
 * before 2026-11-01 (Nairobi), each with 1 or 2 lines of 4 products and 1 or 2 payments;
 * one in 40 is voided. Noise: a second business with a tenth as many sales.
 */
export async function seedShop(options: { sales: number; days: number }): Promise<SeededShop> {
  const name = `bapi_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();

  const drop = async () => {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
  try {
    return await seed(databaseUrl, options, drop);
  } catch (error) {
    await drop();
    throw error;
  }
}

async function seed(
  databaseUrl: string,
  options: { sales: number; days: number },
  drop: () => Promise<void>,
): Promise<SeededShop> {
  const pool = createPool({ url: databaseUrl, poolMax: 2 });
  await runMigrations(pool);
  await pool.end();

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const businessId = crypto.randomUUID();
  const cashierId = crypto.randomUUID();
  for (const [business, count] of [
    [businessId, options.sales],
    [crypto.randomUUID(), Math.ceil(options.sales / 10)],
  ] as const) {
    const user = business === businessId ? cashierId : crypto.randomUUID();
    await client.query(
      `insert into businesses (id, name, current_period_end) values ($1, 'Bench shop', now() + interval '30 days')`,
      [business],
    );
    await client.query(
      `insert into users (id, business_id, email, name, password_hash, role)
       values ($1, $2, $3, 'Bench Cashier', 'x', 'cashier')`,
      [user, business, `${user}@bench.test`],
    );
    await client.query(
      `insert into products (id, business_id, name, sku, price, tax_rate)
       select gen_random_uuid(), $1, 'Product ' || k || ', "bench"', 'SKU-' || k, 15000, 1600
       from generate_series(1, 4) k`,
      [business],
    );
    await client.query(
      `insert into sales (id, business_id, client_request_id, request_hash, number, receipt_number,
         cashier_id, occurred_at, received_at, status, subtotal, discount, tax, total, change)
       select gen_random_uuid(), $1, gen_random_uuid(), 'bench', i, 'R-' || i, $2,
         timestamptz '2026-11-01 00:00:00+03' - ($4::float8 * 86400 * i / $3) * interval '1 second',
         now(), case when i % 40 = 0 then 'voided' else 'completed' end,
         (1 + i % 2) * 15000, 0, (1 + i % 2) * 2069, (1 + i % 2) * 15000, case when i % 3 = 0 then 500 else 0 end
       from generate_series(1, $3::int) i`,
      [business, user, count, options.days],
    );
    await client.query(
      `insert into sale_lines (id, sale_id, business_id, product_id, position, name, sku, quantity,
         unit_price, catalog_price, tax_rate, discount, sale_discount_share, tax, total)
       select gen_random_uuid(), s.id, s.business_id, p.id, k, p.name, p.sku, 1,
         15000, 15000, 1600, 0, 0, 2069, 15000
       from sales s
       cross join lateral generate_series(1, 1 + (s.number % 2)::int) k
       join lateral (select id, name, sku from products
         where business_id = s.business_id order by id offset ((s.number + k) % 4) limit 1) p on true
       where s.business_id = $1`,
      [business],
    );
    await client.query(
      `insert into sale_payments (id, sale_id, business_id, position, method, amount)
       select gen_random_uuid(), s.id, s.business_id, 0,
         case when s.number % 3 = 0 then 'cash' else 'mpesa' end, s.total + s.change
       from sales s where s.business_id = $1`,
      [business],
    );
  }
  await client.query('vacuum analyze');
  await client.end();

  return {
    databaseUrl,
    businessId,
    cashierId,
    drop,
  };
}
