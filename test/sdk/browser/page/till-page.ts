// The till page of the browser suite: the SDK's offline kit, bundled by esbuild, driven by
// Playwright through `window.tillTest`. It registers a service worker so that it still loads
// (reload, browser restart) while the browser is offline, as a real POS web app does.
import {
  createTill,
  liveEvents,
  type SubscriptionStatus,
  type QueuedItem,
  type Till,
  type TillSale,
} from '../../../../sdk/src/offline/index.js';

interface InitOptions {
  baseUrl: string;
  token: string;
  deviceId: string;
  batchSize?: number;
  /** Keep the catalog live through `GET /realtime` on this base URL (the API, not the proxy). */
  liveBaseUrl?: string;
}

let till: Till | undefined;
const synced: string[] = [];
const rejected: string[] = [];
let liveStatus: SubscriptionStatus | undefined;
const events: string[] = [];

const current = (): Till => {
  if (!till) throw new Error('init first');
  return till;
};

const tillTest = {
  async init(options: InitOptions): Promise<void> {
    await navigator.serviceWorker.register('/sw.js');
    await navigator.serviceWorker.ready;
    till = await createTill({
      baseUrl: options.baseUrl,
      getToken: () => options.token,
      deviceId: options.deviceId,
      batchSize: options.batchSize,
      baseDelayMs: 200,
      maxDelayMs: 1500,
      events: options.liveBaseUrl
        ? liveEvents({
            baseUrl: options.liveBaseUrl,
            getToken: () => options.token,
            onStatus: (status) => (liveStatus = status),
          })
        : undefined,
    });
    till.on('synced', (event) => synced.push(event.item.key));
    till.on('rejected', (letter) => rejected.push(letter.key));
    till.on('event', (event) => events.push(event.type));
  },
  async record(sale: TillSale): Promise<{ key: string; receiptNumber: string }> {
    const item = await current().recordSale(sale);
    return { key: item.key, receiptNumber: item.body.receiptNumber as string };
  },
  /** Any other write of the kit (openShift, closeShift, recordReturn, recordCustomerPayment). */
  async write(
    kind: 'openShift' | 'closeShift' | 'recordReturn' | 'recordCustomerPayment',
    args: unknown[],
  ): Promise<{ key: string; body: Record<string, unknown> }> {
    const active = current() as unknown as Record<
      string,
      (...input: unknown[]) => Promise<QueuedItem>
    >;
    const item = await active[kind]!(...args);
    return { key: item.key, body: item.body };
  },
  /** The catalog mirror: a delta (when asked), then the local copy's id → price. */
  async catalog(refresh: boolean): Promise<Record<string, number>> {
    const active = current();
    if (refresh) await active.catalog.refresh();
    const products = await active.catalog.products();
    return Object.fromEntries(products.map((product) => [product.id, product.price]));
  },
  async state() {
    const active = current();
    return {
      pending: (await active.pending()).length,
      deadLetters: (await active.deadLetters()).map((letter) => ({
        key: letter.key,
        code: letter.problem.code,
        status: letter.problem.status,
      })),
      synced: [...synced],
      rejected: [...rejected],
      online: navigator.onLine,
      live: liveStatus,
      events: [...events],
    };
  },
};

(window as unknown as { tillTest: typeof tillTest }).tillTest = tillTest;
