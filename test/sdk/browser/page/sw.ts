// The till page's service worker: the page and its bundle from the cache first, so the till
// opens with no network. API calls (another origin) are not touched.
const CACHE = 'till-page-v1';
const worker = self as unknown as {
  addEventListener(type: string, listener: (event: never) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  location: Location;
};

interface ExtendableEvent {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(response: Promise<Response>): void;
}

worker.addEventListener('install', (event: ExtendableEvent) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(['/', '/till.js']))
      .then(() => worker.skipWaiting()),
  );
});
worker.addEventListener('activate', (event: ExtendableEvent) => {
  event.waitUntil(worker.clients.claim());
});
worker.addEventListener('fetch', (event: FetchEvent) => {
  if (new URL(event.request.url).origin !== worker.location.origin) return;
  event.respondWith(
    caches.match(event.request, { ignoreSearch: true }).then((hit) => hit ?? fetch(event.request)),
  );
});
