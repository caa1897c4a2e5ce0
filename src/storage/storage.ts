import type { Readable } from 'node:stream';

/** What a stored object looks like when read back. */
export interface StoredObject {
  body: Readable;
  contentType: string;
  /** Bytes, when the driver knows it. */
  size?: number;
}

export interface PutOptions {
  contentType: string;
  /** Bytes, when known; lets the S3 driver stream without spooling first. */
  contentLength?: number;
}

/**
 * Where files live (product images, exports). Keys are `folder/name` (see isStorageKey);
 * the app serves every key under `/files/<key>` whatever the driver (see storage-url.ts),
 * so URLs handed out never depend on where the bytes are.
 */
export interface Storage {
  readonly driver: 'local' | 's3';
  /** Stores a stream (or buffer) under `key`, replacing any object there; atomic for readers. */
  put(key: string, body: Readable | Buffer, options: PutOptions): Promise<void>;
  /** A read stream of the object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Removes the object; no error when it is already gone. */
  delete(key: string): Promise<void>;
  /** Releases connections (S3 keep-alive sockets); safe to call twice. */
  close?(): Promise<void>;
}

/** `images/3f2a….png`: one lower-case folder, then a safe file name (no traversal possible). */
const KEY_PATTERN = /^[a-z0-9-]{1,40}\/[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function isStorageKey(key: string): boolean {
  return KEY_PATTERN.test(key) && !key.includes('..');
}

export function assertStorageKey(key: string): void {
  if (!isStorageKey(key)) throw new Error(`Invalid storage key: ${key}`);
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  pdf: 'application/pdf',
  txt: 'text/plain; charset=utf-8',
};

/** The content type implied by a key's extension (the local driver keeps no metadata). */
export function contentTypeOfKey(key: string): string {
  const extension = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}
