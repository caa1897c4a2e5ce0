import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import type { DeadLetter, MirroredRecord, QueuedItem, TillStorage } from './storage.js';

interface FileState {
  queue: QueuedItem[];
  deadLetters: DeadLetter[];
  meta: Record<string, unknown>;
  catalog: Record<string, MirroredRecord>;
}

const empty = (): FileState => ({ queue: [], deadLetters: [], meta: {}, catalog: {} });

/** A lock file older than this belongs to a process that died holding it. */
const STALE_LOCK_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Node storage: one JSON file. Every method reads the file, changes it and writes it back
 * atomically (a temporary file, fsync, rename over the old one), under a lock file taken with
 * O_EXCL, so a crash leaves the old or the new state, never half of one, and several
 * processes may share one file.
 */
export function fileStorage(path: string): TillStorage {
  const lockPath = `${path}.lock`;
  let chain: Promise<unknown> = Promise.resolve();

  const lock = async (): Promise<() => Promise<void>> => {
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const held = await stat(lockPath).catch(() => undefined);
        if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await rm(lockPath, { force: true });
        else await sleep(5);
      }
    }
  };

  const read = async (): Promise<FileState> => {
    try {
      return { ...empty(), ...(JSON.parse(await readFile(path, 'utf8')) as Partial<FileState>) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return empty();
      throw error;
    }
  };

  const write = async (state: FileState) => {
    const temporary = `${path}.${randomUUID()}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(JSON.stringify(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  };

  /** One atomic step: in this process one at a time, across processes under the lock file. */
  const step = <T>(change: (state: FileState) => T, writes = true): Promise<T> => {
    const run = chain.then(async () => {
      const unlock = await lock();
      try {
        const state = await read();
        const result = change(state);
        if (writes) await write(state);
        return result;
      } finally {
        await unlock();
      }
    });
    chain = run.catch(() => undefined);
    return run;
  };

  return {
    append: (build, counter) =>
      step((state) => {
        const seq = ((state.meta.seq as number | undefined) ?? 0) + 1;
        state.meta.seq = seq;
        let counterValue: number | undefined;
        if (counter !== undefined) {
          counterValue = ((state.meta[`counter:${counter}`] as number | undefined) ?? 0) + 1;
          state.meta[`counter:${counter}`] = counterValue;
        }
        const item: QueuedItem = { ...build(seq, counterValue), seq };
        state.queue.push(item);
        return item;
      }),
    pending: () => step((state) => state.queue, false),
    remove: (seqs) =>
      step((state) => {
        const gone = new Set(seqs);
        state.queue = state.queue.filter((item) => !gone.has(item.seq));
      }),
    bury: (letters) =>
      step((state) => {
        const gone = new Set(letters.map((letter) => letter.seq));
        state.queue = state.queue.filter((item) => !gone.has(item.seq));
        state.deadLetters.push(...letters);
      }),
    deadLetters: () => step((state) => state.deadLetters, false),
    dropDeadLetters: (seqs) =>
      step((state) => {
        const gone = new Set(seqs);
        state.deadLetters = state.deadLetters.filter((letter) => !gone.has(letter.seq));
      }),
    getValue: <T>(key: string) => step((state) => state.meta[key] as T | undefined, false),
    setValue: (key, value) =>
      step((state) => {
        state.meta[key] = value;
      }),
    putRecords: (records) =>
      step((state) => {
        for (const record of records) state.catalog[record.id] = record;
      }),
    records: () => step((state) => Object.values(state.catalog), false),
    close: async () => {
      await chain;
    },
  };
}
