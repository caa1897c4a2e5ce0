/**
 * `@backend-api/sdk/offline`: the offline till kit (API.md Part 2, "The offline till kit").
 * Node tills: `fileStorage` from `@backend-api/sdk/offline/node`.
 */
import { idbStorage } from './idb-storage.js';
import { createTillOn, type Till, type TillOptions } from './till.js';

/** `const till = await createTill({ baseUrl, getToken, deviceId })`: storage defaults to IndexedDB. */
export async function createTill(options: TillOptions): Promise<Till> {
  const { storage, ...rest } = options;
  return createTillOn(storage ?? (await idbStorage(options.deviceId)), rest);
}

export {
  createTillOn,
  type SyncReport,
  type SyncedEvent,
  type Till,
  type TillCustomerPayment,
  type TillEvents,
  type TillOptions,
  type TillReturn,
  type TillSale,
  type TillShiftClosing,
  type TillShiftOpening,
} from './till.js';
export {
  createCatalogMirror,
  isCatalogEvent,
  type CatalogMirror,
  type EventSource,
  type LiveEvent,
  type MirroredProduct,
} from './catalog.js';
export { idbStorage } from './idb-storage.js';
/** The `events` option from the SDK's live updates (`GET /realtime`). */
export { liveEvents, type LiveEventSource, type SubscriptionStatus } from '../realtime.js';
export type { DeadLetter, MirroredRecord, QueueKind, QueuedItem, TillStorage } from './storage.js';
