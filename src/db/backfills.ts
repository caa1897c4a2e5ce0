import type pg from 'pg';

/**
 * Data changes that need a pass over big tables, done after the migrations in small
 * batches, each its own short transaction (a migration is one transaction: a pass over
 * millions of rows inside it would hold its locks for minutes). Each backfill is recorded
 * in data_backfills when complete, so later starts skip it; an interrupted one resumes
 * (every batch is idempotent).
 */
const BATCH = 5_000;

/** 0004 branches: movements and sales without a location get their business's Main. */
async function backfillLocations(client: pg.PoolClient): Promise<void> {
  // Movements, by primary key: the products with location-less movements in each chunk
  // are locked (id order, like every stock writer), their movements given Main, and Main's
  // level recomputed as total − other locations — exact even for sales a previous release
  // recorded after the migration's snapshot.
  let cursor = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const chunk = await client.query<{ last: string | null; products: string[] | null }>(
      `with chunk as (
         select id, product_id, location_id from stock_movements
         where id > $1 order by id limit $2
       )
       select max(id::text) as last,
         array_agg(distinct product_id) filter (where location_id is null) as products
       from chunk`,
      [cursor, BATCH],
    );
    const row = chunk.rows[0];
    if (!row?.last) break;
    cursor = row.last;
    if (row.products?.length) await assignMain(client, row.products);
  }
  cursor = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const chunk = await client.query<{ last: string | null }>(
      `with chunk as (
         select id from sales where id > $1 order by id limit $2
       ), updated as (
         update sales s set location_id = l.id
         from chunk, locations l
         where s.id = chunk.id and s.location_id is null
           and l.business_id = s.business_id and l.is_default
       )
       select max(id::text) as last from chunk`,
      [cursor, BATCH],
    );
    const last = chunk.rows[0]?.last;
    if (!last) break;
    cursor = last;
  }
  // Validating takes SHARE UPDATE EXCLUSIVE: reads and writes go on meanwhile.
  for (const [table, constraint] of [
    ['stock_levels', 'stock_levels_product_business_fk'],
    ['stock_levels', 'stock_levels_location_business_fk'],
    ['stock_movements', 'stock_movements_location_business_fk'],
    ['sales', 'sales_location_business_fk'],
  ] as const) {
    await client.query(`alter table ${table} validate constraint ${constraint}`);
  }
}

async function assignMain(client: pg.PoolClient, productIds: string[]): Promise<void> {
  await client.query('begin');
  try {
    await client.query(
      'select id from products where id = any($1::uuid[]) order by id for update',
      [productIds],
    );
    await client.query(
      `update stock_movements m set location_id = l.id
       from products p join locations l on l.business_id = p.business_id and l.is_default
       where p.id = any($1::uuid[]) and m.business_id = p.business_id and m.product_id = p.id
         and m.location_id is null`,
      [productIds],
    );
    await client.query(
      `insert into stock_levels (business_id, product_id, location_id, quantity)
       select p.business_id, p.id, l.id, ps.quantity - coalesce((
           select sum(s.quantity) from stock_levels s
           where s.business_id = p.business_id and s.product_id = p.id and s.location_id <> l.id
         ), 0)
       from products p join locations l on l.business_id = p.business_id and l.is_default
         join product_stock ps on ps.business_id = p.business_id and ps.product_id = p.id
       where p.id = any($1::uuid[])
       on conflict (business_id, product_id, location_id) do update set quantity = excluded.quantity`,
      [productIds],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/**
 * 0007 shifts: the index a shift's report reads its sales by, built without blocking sales
 * (CONCURRENTLY cannot run in the migration's transaction). An interrupted build leaves an
 * invalid index, dropped and built again here.
 */
async function buildSalesShiftIndex(client: pg.PoolClient): Promise<void> {
  const found = await client.query<{ valid: boolean }>(
    `select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid
     where c.relname = 'sales_shift_idx'`,
  );
  if (found.rows[0]?.valid) return;
  if (found.rows[0]) await client.query('drop index concurrently if exists sales_shift_idx');
  await client.query(
    `create index concurrently sales_shift_idx on sales (business_id, shift_id)
     where shift_id is not null`,
  );
}

/**
 * 0013 RabbitMQ: the publisher's partial index, built CONCURRENTLY (outside any transaction;
 * outbox inserts go on meanwhile). An interrupted build leaves an INVALID index behind: it is
 * dropped and built again.
 */
async function buildAmqpPendingIndex(client: pg.PoolClient): Promise<void> {
  const existing = await client.query<{ valid: boolean }>(
    `select i.indisvalid as valid from pg_index i
     join pg_class c on c.oid = i.indexrelid
     where c.relname = 'outbox_amqp_pending_idx'`,
  );
  if (existing.rows[0]?.valid) return;
  if (existing.rows.length > 0) {
    await client.query('drop index concurrently if exists outbox_amqp_pending_idx');
  }
  await client.query(
    `create index concurrently if not exists outbox_amqp_pending_idx on outbox (id)
     where kind = 'event' and amqp_published_at is null`,
  );
}

const BACKFILLS: [name: string, run: (client: pg.PoolClient) => Promise<void>][] = [
  ['0004_branches_locations', backfillLocations],
  ['0007_shifts_sales_index', buildSalesShiftIndex],
  ['0013_outbox_amqp_pending_idx', buildAmqpPendingIndex],
];

/** Runs every backfill not yet recorded as done (the caller holds the migration lock). */
export async function runBackfills(client: pg.PoolClient): Promise<void> {
  const done = await client.query<{ name: string }>('select name from data_backfills');
  const finished = new Set(done.rows.map((row) => row.name));
  for (const [name, run] of BACKFILLS) {
    if (finished.has(name)) continue;
    await run(client);
    await client.query('insert into data_backfills (name) values ($1) on conflict do nothing', [
      name,
    ]);
  }
}
