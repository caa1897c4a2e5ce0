import type { AppDeps } from '../../deps.js';

/**
 * POST /sales of one business, coalesced (sales.service.ts createSale): while a write of
 * the business's sales is in flight, the sales arriving meanwhile wait and are then written
 * together, as one /sales/sync batch is (one lookup, one write statement, one commit). A
 * business's sales are serialised anyway (the gap-free number counter and the catalog
 * write order lock one row each until the commit), so waiting costs a sale nothing it would
 * not have waited for in PostgreSQL, and a batch costs far less per sale than single
 * writes (bench/README.md). A sale arriving when nothing is in flight is written at once:
 * no timer, no added latency when a shop is quiet.
 *
 * Every sale keeps its own answer: `write` answers each item on its own (recordSalesOf
 * settles rule breaks, replays and races per sale), and an error of the whole write fails
 * only the items of that write. Per process: each API process coalesces what it receives.
 */

/** As a /sales/sync request at most. */
const MAX_BATCH = 100;

interface Waiting<Item, Outcome> {
  item: Item;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** Per deps (tests run several apps in one process), per business: the items waiting. */
const queues = new WeakMap<AppDeps, Map<string, Waiting<unknown, unknown>[]>>();

export function coalesced<Item, Outcome>(
  deps: AppDeps,
  businessId: string,
  item: Item,
  write: (items: Item[]) => Promise<Outcome[]>,
): Promise<Outcome> {
  let businesses = queues.get(deps);
  if (!businesses) {
    businesses = new Map();
    queues.set(deps, businesses);
  }
  const known = businesses;
  return new Promise<Outcome>((resolve, reject) => {
    const waiting = { item, resolve, reject } as Waiting<unknown, unknown>;
    const queue = known.get(businessId);
    if (queue) {
      queue.push(waiting);
      return;
    }
    // Nothing in flight for this business: this item starts the writer.
    const started = [waiting];
    known.set(businessId, started);
    void writeWhileWaiting(
      known,
      businessId,
      started,
      write as (items: unknown[]) => Promise<unknown[]>,
    );
  });
}

async function writeWhileWaiting(
  businesses: Map<string, Waiting<unknown, unknown>[]>,
  businessId: string,
  queue: Waiting<unknown, unknown>[],
  write: (items: unknown[]) => Promise<unknown[]>,
): Promise<void> {
  try {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const outcomes = await write(batch.map((waiting) => waiting.item));
        batch.forEach((waiting, index) => waiting.resolve(outcomes[index]));
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
  } finally {
    businesses.delete(businessId);
  }
}
