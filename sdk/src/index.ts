import createFetchClient, { type Client } from 'openapi-fetch';
import { createAuthFetch, type Tokens } from './auth-fetch.js';
import { ProblemError, isProblemBody } from './errors.js';
import type { components, paths } from './schema.js';

export { ProblemError, type ProblemBody, type ProblemFieldError } from './errors.js';
export { idempotent, type IdempotentOptions } from './idempotent.js';
export {
  conditionalGet,
  createEtagStore,
  type ConditionalHeaders,
  type ConditionalResult,
  type EtagStore,
} from './conditional.js';
export {
  liveEvents,
  subscribe,
  type LiveEvent,
  type LiveEventSource,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionStatus,
  type WebSocketConstructor,
  type WebSocketLike,
} from './realtime.js';
export type { Tokens } from './auth-fetch.js';
export type { components, paths } from './schema.js';

export interface ClientOptions {
  /** e.g. https://api.example.co.ke */
  baseUrl: string;
  /** A fixed access token… */
  token?: string;
  /** …or a getter for the current one (kept by your app). */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /** Enables automatic refresh on 401 TOKEN_EXPIRED. */
  getRefreshToken?: () => string | undefined | Promise<string | undefined>;
  /** Receives every new token pair from an automatic refresh; store both. */
  onTokens?: (tokens: Tokens) => void | Promise<void>;
  /** A fetch implementation (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

export type BackendApiClient = Client<paths>;

/**
 * A typed client for every operation in the OpenAPI document:
 * `const { data, error } = await api.GET('/products', { params: { query: { limit: 50 } } })`.
 * Use `unwrap()` to get the data or a thrown ProblemError instead.
 */
export function createClient(options: ClientOptions): BackendApiClient {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const authFetch = createAuthFetch({
    baseUrl: options.baseUrl,
    fetch: baseFetch,
    getToken: options.getToken ?? (() => options.token),
    getRefreshToken: options.getRefreshToken,
    onTokens: options.onTokens,
  });
  return createFetchClient<paths>({ baseUrl: options.baseUrl, fetch: authFetch });
}

/** The data of a successful call, or a ProblemError carrying code, retryable and requestId. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  const { data, error, response } = await call;
  if (response.ok) return data as NonNullable<T>;
  throw new ProblemError(isProblemBody(error) ? error : {}, response);
}

export type Schemas = components['schemas'];
