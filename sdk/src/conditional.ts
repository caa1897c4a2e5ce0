import { ProblemError, isProblemBody } from './errors.js';

/**
 * Conditional reads (RFC 9110 §13.1.2) for the ETag'd catalog routes: the store keeps the
 * last ETag per key (usually the request's path and query), sends it as If-None-Match, and a
 * `304 Not Modified` comes back as `{ notModified: true }` so the caller keeps what it has.
 * The server answers 304 even though fetch adds `Cache-Control: no-cache` to such requests.
 */
export interface EtagStore {
  get(key: string): string | undefined;
  set(key: string, etag: string): void;
  delete(key: string): void;
}

/** An in-memory EtagStore; persist your own (e.g. beside the cached catalog) to survive reloads. */
export function createEtagStore(): EtagStore {
  const tags = new Map<string, string>();
  return {
    get: (key) => tags.get(key),
    set: (key, etag) => void tags.set(key, etag),
    delete: (key) => void tags.delete(key),
  };
}

export type ConditionalResult<T> =
  { notModified: true; etag: string } | { notModified: false; data: T; etag: string | undefined };

export interface ConditionalHeaders {
  'if-none-match'?: string;
}

/**
 * `conditionalGet(etags, '/products?limit=200', (header) => api.GET('/products', { params: { query: { limit: 200 }, header } }))`:
 * the data when it changed (its ETag remembered), or `notModified` when it did not. Any
 * other answer is thrown as a ProblemError, as unwrap() does.
 */
export async function conditionalGet<T>(
  store: EtagStore,
  key: string,
  call: (header: ConditionalHeaders) => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<ConditionalResult<NonNullable<T>>> {
  const known = store.get(key);
  const result = await call(known ? { 'if-none-match': known } : {});
  const { response } = result;
  if (response.status === 304 && known) return { notModified: true, etag: known };
  if (!response.ok) {
    throw new ProblemError(isProblemBody(result.error) ? result.error : {}, response);
  }
  const etag = response.headers.get('etag') ?? undefined;
  if (etag) store.set(key, etag);
  else store.delete(key);
  return { notModified: false, data: result.data as NonNullable<T>, etag };
}
