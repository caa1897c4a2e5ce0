import type { ProblemBody } from '../errors.js';

/** What the till queues: each kind is one contract route (API.md Part 2). */
export type QueueKind = 'sale' | 'return' | 'shift.open' | 'shift.close' | 'customer.payment';

/** One write waiting for the server, exactly as it will be sent. */
export interface QueuedItem {
  /** Position in the queue: the order the till recorded things in (causal order). */
  seq: number;
  kind: QueueKind;
  /**
   * The idempotency key: the clientRequestId of a sale, return or customer payment, the id of
   * an opened shift, a UUID made when a close was recorded (sent as `Idempotency-Key`).
   */
  key: string;
  /** The route, e.g. `/sales` (sales go through `/sales/sync` in batches) or `/shifts/{id}/close`. */
  path: string;
  body: Record<string, unknown>;
  /** When the till recorded it (ISO 8601). */
  recordedAt: string;
}

/** An item the server refused for good, with the problem it answered. */
export interface DeadLetter extends QueuedItem {
  problem: Partial<ProblemBody>;
  /** When the refusal came (ISO 8601). */
  failedAt: string;
}

/** A catalog record the mirror keeps (a Product as GET /products returns it). */
export interface MirroredRecord {
  id: string;
  updatedAt: string;
  [field: string]: unknown;
}

/**
 * Where a till keeps its queue, dead letters, counters and catalog mirror. Every method is
 * one atomic step; two tabs (or two processes) sharing a storage never see half of one.
 * Browsers: `idbStorage()` (the default). Node: `fileStorage(path)` from
 * `@backend-api/sdk/offline/node`.
 */
export interface TillStorage {
  /**
   * Appends one item in one atomic step. `build` receives the item's queue position and, when
   * `counter` is named, that counter's next value (1, 2, …), claimed in the same step: a
   * claimed number is never given twice and never lost to a crash between claim and write.
   */
  append(
    build: (seq: number, counterValue: number | undefined) => Omit<QueuedItem, 'seq'>,
    counter?: string,
  ): Promise<QueuedItem>;
  /** The queue, oldest first. */
  pending(): Promise<QueuedItem[]>;
  /** Removes the items the server answered (by `seq`). */
  remove(seqs: readonly number[]): Promise<void>;
  /** Moves refused items out of the queue into the dead letters, in one step. */
  bury(letters: readonly DeadLetter[]): Promise<void>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Forgets dead letters (by `seq`) once someone has dealt with them. */
  dropDeadLetters(seqs: readonly number[]): Promise<void>;
  getValue<T>(key: string): Promise<T | undefined>;
  setValue(key: string, value: unknown): Promise<void>;
  /** Inserts or replaces catalog records by id. */
  putRecords(records: readonly MirroredRecord[]): Promise<void>;
  records(): Promise<MirroredRecord[]>;
  close(): Promise<void>;
}
