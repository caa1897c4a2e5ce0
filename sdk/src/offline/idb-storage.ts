/// <reference lib="dom" />
import type { DeadLetter, MirroredRecord, QueuedItem, TillStorage } from './storage.js';

const VERSION = 1;
const QUEUE = 'queue';
const DEAD = 'deadLetters';
const META = 'meta';
const CATALOG = 'catalog';

const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });

const done = (tx: IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });

function open(name: string): Promise<IDBDatabase> {
  const req = indexedDB.open(name, VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains(QUEUE)) db.createObjectStore(QUEUE, { keyPath: 'seq' });
    if (!db.objectStoreNames.contains(DEAD)) db.createObjectStore(DEAD, { keyPath: 'seq' });
    if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    if (!db.objectStoreNames.contains(CATALOG)) db.createObjectStore(CATALOG, { keyPath: 'id' });
  };
  return request(req);
}

/**
 * The browser storage: one IndexedDB database per till (`backend-api-till:<deviceId>`),
 * shared by every tab of the origin. Each method is one IndexedDB transaction, and a write
 * resolves only once its transaction has committed (durability "strict": flushed to disk).
 */
export async function idbStorage(deviceId: string): Promise<TillStorage> {
  const db = await open(`backend-api-till:${deviceId}`);
  // Another tab upgrading the schema: let it, this connection closes.
  db.onversionchange = () => db.close();

  const tx = (stores: string[], mode: IDBTransactionMode) =>
    db.transaction(stores, mode, { durability: 'strict' });

  const all = async <T>(store: string): Promise<T[]> =>
    request(tx([store], 'readonly').objectStore(store).getAll()) as Promise<T[]>;

  return {
    async append(build, counter) {
      const t = tx([QUEUE, META], 'readwrite');
      const committed = done(t);
      const meta = t.objectStore(META);
      const seq = (((await request(meta.get('seq'))) as number | undefined) ?? 0) + 1;
      meta.put(seq, 'seq');
      let counterValue: number | undefined;
      if (counter !== undefined) {
        const key = `counter:${counter}`;
        counterValue = (((await request(meta.get(key))) as number | undefined) ?? 0) + 1;
        meta.put(counterValue, key);
      }
      const item: QueuedItem = { ...build(seq, counterValue), seq };
      t.objectStore(QUEUE).add(item);
      await committed;
      return item;
    },
    pending: () => all<QueuedItem>(QUEUE),
    async remove(seqs) {
      if (seqs.length === 0) return;
      const t = tx([QUEUE], 'readwrite');
      for (const seq of seqs) t.objectStore(QUEUE).delete(seq);
      await done(t);
    },
    async bury(letters) {
      if (letters.length === 0) return;
      const t = tx([QUEUE, DEAD], 'readwrite');
      for (const letter of letters) {
        t.objectStore(QUEUE).delete(letter.seq);
        t.objectStore(DEAD).put(letter);
      }
      await done(t);
    },
    deadLetters: () => all<DeadLetter>(DEAD),
    async dropDeadLetters(seqs) {
      const t = tx([DEAD], 'readwrite');
      for (const seq of seqs) t.objectStore(DEAD).delete(seq);
      await done(t);
    },
    getValue: async <T>(key: string) =>
      (await request(tx([META], 'readonly').objectStore(META).get(key))) as T | undefined,
    async setValue(key, value) {
      const t = tx([META], 'readwrite');
      t.objectStore(META).put(value, key);
      await done(t);
    },
    async putRecords(records: readonly MirroredRecord[]) {
      if (records.length === 0) return;
      const t = tx([CATALOG], 'readwrite');
      for (const record of records) t.objectStore(CATALOG).put(record);
      await done(t);
    },
    records: () => all<MirroredRecord>(CATALOG),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}
