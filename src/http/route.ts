import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import type { ZodObject, ZodType, z } from 'zod';
import { AppError, type FieldError, type ProblemCode } from '../lib/errors.js';
import type { Permission } from '../modules/auth/permissions.js';
import type { AppContext, AppContextExtensions, AppState } from './context.js';
import {
  authenticate,
  requireActiveSubscription,
  requirePermission,
} from './middleware/authenticate.js';
import { concurrencyLimit, type ConcurrencyLimit } from './middleware/concurrency.js';
import { idempotency } from './middleware/idempotency.js';
import { RATE_LIMIT_EXEMPT_PATHS } from './middleware/rate-limit.js';
import { fromZodError } from './problem.js';
import { refuseDeclaredOversize, sendContinue } from './refused-body.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteRequest {
  params?: ZodObject;
  query?: ZodObject;
  /** Lower-case header names. Authorization is never listed: it is the bearerAuth scheme. */
  headers?: ZodObject;
  body?: ZodType;
}

export interface RouteResponse {
  description: string;
  schema?: ZodType;
  contentType?: string;
  /** The same answer in other media types, chosen by a query parameter (a receipt's format). */
  alternatives?: Record<string, ZodType>;
  headers?: Record<string, { description: string }>;
}

type InferOr<T, Fallback> = T extends ZodType ? z.output<T> : Fallback;

export interface RouteInput<R extends RouteRequest> {
  params: InferOr<R['params'], Record<string, never>>;
  query: InferOr<R['query'], Record<string, never>>;
  headers: InferOr<R['headers'], Record<string, never>>;
  body: InferOr<R['body'], undefined>;
}

export type RouteContext<R extends RouteRequest> = AppContext & { input: RouteInput<R> };

export interface RouteSpec<R extends RouteRequest = RouteRequest> {
  method: HttpMethod;
  /** OpenAPI-style path: `/products/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** 'public', any signed-in user, or a permission from modules/auth/permissions.ts. */
  access: 'public' | 'authenticated' | Permission;
  /** Writes refused with 402 while the subscription is expired. */
  requiresActiveSubscription?: boolean;
  /** Idempotency-Key handling (API.md "Idempotency"). */
  idempotency?: 'required' | 'optional';
  /**
   * Body size limit, `<n>kb` or `<n>mb` (1024-based): the JSON body (default 1mb), or the
   * whole multipart request. Listed in the OpenAPI operation (`x-body-limit`).
   */
  bodyLimit?: string;
  /** At most this many handled at once per process, the rest queued (503 beyond the queue). */
  concurrency?: ConcurrencyLimit;
  /**
   * 'multipart': the handler streams the raw request itself (uploads); `request.body` then
   * only documents the form fields and is not parsed or validated here.
   */
  /** `form`: application/x-www-form-urlencoded (a peer's callback, e.g. AT delivery reports), JSON also accepted. */
  bodyType?: 'json' | 'multipart' | 'form';
  request?: R;
  responses: Partial<Record<number, RouteResponse>>;
  /** Problem codes beyond those implied by the declaration (auth, validation, body…). */
  problems?: ProblemCode[];
  /** Extra middleware run after validation, before the handler. */
  middleware?: Middleware<AppState, AppContextExtensions>[];
  handler: (ctx: RouteContext<R>) => Promise<void> | void;
}

/** A route's declaration: validation, middleware and its OpenAPI operation in one place. */
export function defineRoute<R extends RouteRequest>(spec: RouteSpec<R>): RouteSpec {
  return spec;
}

/** Problem codes a route can answer, derived from its declaration plus its own list. */
export function routeProblemCodes(spec: RouteSpec): ProblemCode[] {
  const codes = new Set<ProblemCode>(['INTERNAL', 'SERVICE_UNAVAILABLE']);
  // The general limiter answers every path but the probes'.
  if (!RATE_LIMIT_EXEMPT_PATHS.has(spec.path)) codes.add('RATE_LIMITED');
  const request = spec.request ?? {};
  if (request.params || request.query || request.headers || request.body || spec.idempotency) {
    codes.add('VALIDATION_FAILED');
  }
  if (request.body) {
    if (spec.bodyType !== 'multipart') codes.add('MALFORMED_JSON');
    codes.add('PAYLOAD_TOO_LARGE');
    codes.add('UNSUPPORTED_MEDIA_TYPE');
  }
  if (spec.access !== 'public') {
    codes.add('UNAUTHENTICATED');
    codes.add('TOKEN_EXPIRED');
  }
  if (spec.access !== 'public' && spec.access !== 'authenticated') codes.add('FORBIDDEN');
  if (spec.requiresActiveSubscription) codes.add('SUBSCRIPTION_INACTIVE');
  if (spec.idempotency) {
    codes.add('IDEMPOTENCY_KEY_REUSED');
    codes.add('IDEMPOTENCY_REQUEST_IN_PROGRESS');
  }
  if (request.params) codes.add('NOT_FOUND');
  for (const code of spec.problems ?? []) codes.add(code);
  return [...codes];
}

/** `/products/{id}` → `/products/:id` */
export const toKoaPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');

/** The middleware chain for one route: auth → permission → subscription → concurrency → body → validate → idempotency → handler. */
export function routeMiddleware(spec: RouteSpec): Middleware<AppState, AppContextExtensions>[] {
  const chain: Middleware<AppState, AppContextExtensions>[] = [];
  if (spec.access !== 'public') chain.push(authenticate());
  if (spec.access !== 'public' && spec.access !== 'authenticated')
    chain.push(requirePermission(spec.access));
  if (spec.requiresActiveSubscription) chain.push(requireActiveSubscription());
  // Bodies are parsed per route, after authentication: an anonymous caller cannot make the
  // server read a megabyte, and each route has its own limit (/sales/sync takes 5 MB).
  const multipart = spec.bodyType === 'multipart';
  if (spec.concurrency) chain.push(concurrencyLimit(spec.concurrency));
  if (spec.request?.body) chain.push(bodyPreflight(routeBodyLimitBytes(spec)));
  if (spec.request?.body && spec.bodyType === 'form')
    chain.push(formBody(spec.bodyLimit ?? DEFAULT_BODY_LIMIT));
  else if (spec.request?.body && !multipart)
    chain.push(jsonBody(spec.bodyLimit ?? DEFAULT_BODY_LIMIT));
  chain.push(validate(multipart ? { ...spec.request, body: undefined } : (spec.request ?? {})));
  if (spec.idempotency)
    chain.push(idempotency({ required: spec.idempotency === 'required', routePath: spec.path }));
  chain.push(...(spec.middleware ?? []));
  chain.push(async (ctx) => {
    await spec.handler(ctx as RouteContext<RouteRequest>);
  });
  return chain;
}

export const DEFAULT_BODY_LIMIT = '1mb';

/** A route's body limit in bytes ('16kb' → 16384, '5mb' → 5242880, as the body parser counts). */
export function routeBodyLimitBytes(spec: RouteSpec): number {
  const limit = spec.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const match = /^(\d+)(kb|mb)$/.exec(limit);
  if (!match)
    throw new Error(`${spec.operationId}: bodyLimit must be <n>kb or <n>mb, not ${limit}`);
  return Number(match[1]) * (match[2] === 'kb' ? 1024 : 1024 * 1024);
}

/**
 * Before any byte is read: a declared Content-Length over the limit is refused, and only
 * then is a client waiting on `Expect: 100-continue` told to send the body.
 */
function bodyPreflight(limitBytes: number): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    refuseDeclaredOversize(ctx.req, limitBytes);
    sendContinue(ctx.req);
    await next();
  };
}

function jsonBody(limit: string): Middleware<AppState, AppContextExtensions> {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: limit, jsonStrict: false });
  return async (ctx, next) => {
    const hasBody = ctx.request.length > 0 || ctx.get('transfer-encoding') !== '';
    if (hasBody && !ctx.is('application/json', 'application/*+json')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    }
    await parse(ctx, next);
  };
}

function formBody(limit: string): Middleware<AppState, AppContextExtensions> {
  const parse = bodyParser({
    enableTypes: ['form', 'json'],
    formLimit: limit,
    jsonLimit: limit,
    jsonStrict: false,
  });
  return async (ctx, next) => {
    const hasBody = ctx.request.length > 0 || ctx.get('transfer-encoding') !== '';
    if (hasBody && !ctx.is('application/x-www-form-urlencoded', 'application/json')) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Send the body as application/x-www-form-urlencoded or application/json',
      );
    }
    await parse(ctx, next);
  };
}

function validate(request: RouteRequest): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    const input: Record<string, unknown> = { params: {}, query: {}, headers: {}, body: undefined };
    const parts = [
      ['params', request.params, (ctx as unknown as { params?: unknown }).params ?? {}],
      ['query', request.query, ctx.query],
      ['headers', request.headers, ctx.headers],
      ['body', request.body, (ctx.request as { body?: unknown }).body],
    ] as const;
    const issues: AppError[] = [];
    for (const [part, schema, raw] of parts) {
      if (!schema) continue;
      // PostgreSQL text cannot hold U+0000 (the INSERT fails: a 500) nor a lone surrogate
      // (the driver silently stores U+FFFD instead): refuse both here, naming the field.
      const unstorable = findUnstorableStrings(raw, part === 'body' ? [] : [part]);
      if (unstorable.length > 0) {
        issues.push(
          new AppError('VALIDATION_FAILED', 'Unstorable characters', { errors: unstorable }),
        );
        continue;
      }
      const parsed = schema.safeParse(raw);
      if (parsed.success) input[part] = parsed.data;
      // Body paths are reported as the client wrote them (`lines.0.quantity`); other parts
      // are prefixed so `query.limit` and `body.limit` cannot be confused.
      else issues.push(fromZodError(parsed.error, part === 'body' ? [] : [part]));
    }
    if (issues.length > 0) {
      throw new AppError(
        'VALIDATION_FAILED',
        'The request is not valid; see errors for each problem',
        {
          errors: issues.flatMap((issue) => issue.errors ?? []),
        },
      );
    }
    ctx.input = input;
    await next();
  };
}

/**
 * Paths of every string (or key) holding U+0000 or an unpaired UTF-16 surrogate, in the
 * client's terms (`lines.0.note`).
 */
function findUnstorableStrings(value: unknown, path: (string | number)[], depth = 0): FieldError[] {
  const problem = (text: string): FieldError | undefined => {
    if (text.includes('\u0000')) {
      return {
        path: path.join('.'),
        message: 'must not contain the NUL character (U+0000)',
        code: 'invalid_string',
      };
    }
    if (!text.isWellFormed()) {
      return {
        path: path.join('.'),
        message: 'must be well-formed Unicode (no unpaired surrogate)',
        code: 'invalid_string',
      };
    }
    return undefined;
  };
  if (typeof value === 'string') {
    const found = problem(value);
    return found ? [found] : [];
  }
  // Deeper than any schema goes: the schema itself refuses such nesting.
  if (depth > 32 || typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => findUnstorableStrings(item, [...path, index], depth + 1));
  }
  return Object.entries(value).flatMap(([key, item]) => {
    const found = problem(key);
    return found ? [found] : findUnstorableStrings(item, [...path, key], depth + 1);
  });
}
