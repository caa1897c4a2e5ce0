import type { MirroredRecord, TillStorage } from './storage.js';

/** A live event as the SDK's `subscribe()` delivers it (only `type` is read here). */
export interface LiveEvent {
  type: string;
  id?: string;
  timestamp?: string;
  data?: Record<string, unknown>;
}

/**
 * Anything that delivers live events: `liveEvents({ baseUrl, getToken })` (the SDK's realtime
 * `subscribe()` shaped as this). Returns how to stop listening.
 */
export interface EventSource {
  subscribe(onEvent: (event: LiveEvent) => void): (() => void) | { close(): void } | undefined;
}

/** A product as the mirror keeps it (GET /products items). */
export interface MirroredProduct extends MirroredRecord {
  name: string;
  price: number;
  archived: boolean;
}

export interface CatalogMirror {
  /** The local copy: every non-archived product, by name. Reads no network. */
  products(): Promise<MirroredProduct[]>;
  product(id: string): Promise<MirroredProduct | undefined>;
  /**
   * Fetches what changed since the last delta (`updatedSince`, conditional with the stored
   * ETag: an unchanged catalog costs one 304). Concurrent calls share one run.
   */
  refresh(): Promise<{ changed: number }>;
  /** The largest `updatedAt` mirrored so far (the next delta's `updatedSince`). */
  since(): Promise<string | undefined>;
}

/** Event types after which the mirror runs a delta. */
export const isCatalogEvent = (type: string): boolean =>
  type.startsWith('product.') || type.startsWith('inventory.') || type.startsWith('stock.');

const PAGE = 200;
const SINCE_KEY = 'catalog:since';
const EPOCH = '1970-01-01T00:00:00.000Z';

export function createCatalogMirror(options: {
  storage: TillStorage;
  baseUrl: string;
  fetch: (request: Request) => Promise<Response>;
  /** Told after every delta that changed something. */
  onChange?: (changed: number) => void;
}): CatalogMirror {
  const { storage } = options;
  let running: Promise<{ changed: number }> | undefined;
  let again = false;

  const fetchDelta = async (): Promise<{ changed: number }> => {
    const since = (await storage.getValue<string>(SINCE_KEY)) ?? EPOCH;
    let newest = since;
    let cursor: string | undefined;
    let changed = 0;
    for (;;) {
      const url = new URL('/products', options.baseUrl);
      url.searchParams.set('limit', String(PAGE));
      url.searchParams.set('updatedSince', since);
      if (cursor) url.searchParams.set('cursor', cursor);
      const etagKey = `catalog:etag:${url.pathname}${url.search}`;
      const etag = await storage.getValue<string>(etagKey);
      const response = await options.fetch(
        new Request(url, { headers: etag ? { 'if-none-match': etag } : {} }),
      );
      if (response.status === 304) break;
      if (!response.ok) throw new Error(`catalog delta: HTTP ${response.status}`);
      const page = (await response.json()) as {
        data: MirroredProduct[];
        nextCursor: string | null;
      };
      await storage.putRecords(page.data);
      changed += page.data.length;
      const newEtag = response.headers.get('etag');
      if (newEtag) await storage.setValue(etagKey, newEtag);
      for (const product of page.data)
        if (Date.parse(product.updatedAt) > Date.parse(newest)) newest = product.updatedAt;
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    // `since` moves only once the whole delta is in (a cut half-way re-fetches from the start).
    if (newest !== since) await storage.setValue(SINCE_KEY, newest);
    if (changed > 0) options.onChange?.(changed);
    return { changed };
  };

  const refresh = (): Promise<{ changed: number }> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += (await fetchDelta()).changed;
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by a call during the await
        } while (again);
        return { changed: total };
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const visible = (records: MirroredRecord[]) =>
    (records as MirroredProduct[])
      .filter((product) => !product.archived)
      .sort((a, b) => a.name.localeCompare(b.name));

  return {
    products: async () => visible(await storage.records()),
    product: async (id) => visible(await storage.records()).find((product) => product.id === id),
    refresh,
    since: () => storage.getValue<string>(SINCE_KEY),
  };
}
