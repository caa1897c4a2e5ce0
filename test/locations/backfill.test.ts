import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runBackfills } from '../../src/db/backfills.js';
import {
  dataBackfills,
  products,
  productStock,
  stockMovements,
} from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { defaultLocationId, levelsOf, stockOf } from '../helpers/sales-factories.js';

const { deps } = createTestApp();

describe('0004 backfill (src/db/backfills.ts)', () => {
  it('gives location-less movements their business Main and recomputes Main as total − other locations', async () => {
    const shop = await createBusiness(deps);
    const main = await defaultLocationId(deps, shop.id);
    // A product as a previous release left it: stock 7 from two movements without a
    // location, and no level row (the migration's snapshot predates them).
    const productId = newId();
    await deps.db.insert(products).values({
      id: productId,
      businessId: shop.id,
      name: 'Legacy',
      price: 100,
    });
    await deps.db
      .update(productStock)
      .set({ quantity: 7 })
      .where(eq(productStock.productId, productId));
    for (const delta of [10, -3]) {
      await deps.db.insert(stockMovements).values({
        id: newId(),
        businessId: shop.id,
        productId,
        type: delta > 0 ? 'receive' : 'sale',
        delta,
        quantityAfter: 7,
        createdBy: shop.owner.id,
      });
    }
    await deps.db.delete(dataBackfills).where(eq(dataBackfills.name, '0004_branches_locations'));
    const client = await deps.pool.connect();
    try {
      await runBackfills(client);
      // Recorded: a second run skips it.
      await runBackfills(client);
    } finally {
      client.release();
    }
    const rows = await deps.db
      .select({ locationId: stockMovements.locationId })
      .from(stockMovements)
      .where(eq(stockMovements.productId, productId));
    expect(rows.map((row) => row.locationId)).toEqual([main, main]);
    expect(await levelsOf(deps, productId)).toEqual([{ locationId: main, quantity: 7, ledger: 7 }]);
    expect(await stockOf(deps, productId)).toMatchObject({ stockQuantity: 7, ledger: 7 });
    const done = await deps.db.execute(
      sql`select count(*)::int as n from data_backfills where name = '0004_branches_locations'`,
    );
    expect(done.rows[0]).toEqual({ n: 1 });
    const invalid = await deps.db.execute(
      sql`select conname from pg_constraint where conname like '%location_business_fk' and not convalidated`,
    );
    expect(invalid.rows).toEqual([]);
  });
});
