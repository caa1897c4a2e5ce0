import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { PROBLEM_CODES, PROBLEM_CODE_LIST, type ProblemCode } from './lib/errors.js';
import { z } from './lib/zod.js';
import { routeBodyLimitBytes, routeProblemCodes, type RouteSpec } from './http/route.js';
import { IDEMPOTENCY_KEY_MAX_LENGTH } from './http/middleware/idempotency.js';
import { RATE_LIMIT_EXEMPT_PATHS } from './http/middleware/rate-limit.js';
import { MAX_CORS_ORIGIN_LENGTH } from './http/middleware/cors.js';
import { REQUEST_ID_MAX_LENGTH } from './http/middleware/request-id.js';
import { PROBLEM_LIMITS } from './http/problem.js';
import { addImpliedBounds } from './openapi-bounds.js';

export const ProblemSchema = z
  .object({
    type: z.string().max(64).meta({ example: '/errors/validation-failed' }),
    title: z.string().max(64),
    status: z.int().min(400).max(599),
    code: z.enum(PROBLEM_CODE_LIST as [ProblemCode, ...ProblemCode[]]),
    detail: z.string().max(PROBLEM_LIMITS.detail),
    retryable: z
      .boolean()
      .describe(
        'Whether an offline queue should retry the same request later (408/429/5xx, request in progress).',
      ),
    requestId: z.string().max(REQUEST_ID_MAX_LENGTH),
    traceId: z
      .string()
      .max(32)
      .regex(/^[0-9a-f]{32}$/)
      .optional()
      .describe('The OpenTelemetry trace id of the request (present when tracing is on).'),
    errors: z
      .array(
        z.object({
          path: z.string().max(PROBLEM_LIMITS.errorPath),
          message: z.string().max(PROBLEM_LIMITS.errorMessage),
          code: z.string().max(PROBLEM_LIMITS.errorCode),
        }),
      )
      .max(PROBLEM_LIMITS.errors)
      .optional()
      .describe('Every schema violation (the first 100), or the field a conflict is about.'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

interface HeaderSchema {
  type: 'integer' | 'string';
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  enum?: string[];
}
type HeaderSpec = { description: string; schema: HeaderSchema };

// koa-ratelimit (http/middleware/rate-limit.ts) sets these before the route runs, so every
// answer of a limited route carries them, errors included.
const RATE_LIMIT_HEADERS: Record<string, HeaderSpec> = {
  'X-RateLimit-Limit': {
    description: 'Requests allowed per client address per minute (RATE_LIMIT_MAX)',
    // RATE_LIMIT_MAX is any positive safe integer (config.ts).
    schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  },
  'X-RateLimit-Remaining': {
    description: 'Requests left in the current minute',
    schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
  'X-RateLimit-Reset': {
    description: 'When the current window ends, in Unix epoch seconds',
    schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
};

// Set on every answer by request-id and @koa/cors (app.ts), before anything can fail.
const COMMON_HEADERS: Record<string, HeaderSpec> = {
  'X-Request-Id': {
    description: 'The X-Request-Id sent when well-formed, otherwise a new UUID; quoted in logs',
    schema: { type: 'string', maxLength: REQUEST_ID_MAX_LENGTH },
  },
  'Access-Control-Allow-Origin': {
    description:
      'The request’s Origin, echoed only when it is listed in CORS_ORIGINS; absent otherwise',
    schema: { type: 'string', maxLength: MAX_CORS_ORIGIN_LENGTH },
  },
};

const RETRY_AFTER: HeaderSpec = {
  description: 'Seconds to wait before retrying',
  schema: { type: 'integer', minimum: 0, maximum: 86_400 },
};

/** Headers routes may declare on their answers (RouteResponse.headers), with their values. */
const ROUTE_HEADER_SCHEMAS: Record<string, HeaderSchema> = {
  Location: { type: 'string', format: 'uri-reference', maxLength: 256 },
  ETag: { type: 'string', maxLength: 64 },
  'Idempotent-Replayed': { type: 'string', enum: ['true'] },
};

/**
 * Problem codes whose answers may carry Retry-After: rate limits (always), a replay still in
 * progress (idempotency.ts), M-Pesa busy or unavailable (daraja-errors.ts).
 */
const RETRY_AFTER_CODES = new Set<ProblemCode>([
  'RATE_LIMITED',
  'IDEMPOTENCY_REQUEST_IN_PROGRESS',
  'SERVICE_UNAVAILABLE',
]);

const problemResponse = (
  codes: ProblemCode[],
  everyAnswer: Record<string, HeaderSpec>,
): ResponseConfig => ({
  description: `${codes.map((code) => `\`${code}\``).join(', ')} — ${codes.map((code) => PROBLEM_CODES[code].title).join('; ')}`,
  headers: {
    ...everyAnswer,
    ...(codes.some((code) => RETRY_AFTER_CODES.has(code)) ? { 'Retry-After': RETRY_AFTER } : {}),
  },
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

const IdempotencyKeyHeader = (required: boolean) =>
  z.object({
    // The idempotency middleware checks the key (400 naming the header); this only documents it.
    'idempotency-key': (required ? z.string() : z.string().optional()).openapi({
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX_LENGTH,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        'Opaque key of 1–255 visible ASCII characters (a UUID is recommended). The same key with the same body replays the stored answer.',
      example: '0190f1c2-7a3e-7c1d-9b2a-3f4e5d6c7b8a',
    }),
  });

function toRouteConfig(spec: RouteSpec): RouteConfig {
  const limited = !RATE_LIMIT_EXEMPT_PATHS.has(spec.path);
  const everyAnswer = { ...COMMON_HEADERS, ...(limited ? RATE_LIMIT_HEADERS : {}) };
  const responses: Record<string, ResponseConfig> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    if (!response) continue;
    const own = Object.entries(response.headers ?? {}).map(([name, { description }]) => {
      const schema = ROUTE_HEADER_SCHEMAS[name];
      if (!schema) throw new Error(`${spec.operationId}: add the ${name} header to openapi.ts`);
      return [name, { description, schema }] as const;
    });
    responses[status] = {
      description: response.description,
      headers: { ...everyAnswer, ...Object.fromEntries(own) },
      ...(response.schema
        ? {
            content: {
              [response.contentType ?? 'application/json']: { schema: response.schema },
              ...Object.fromEntries(
                Object.entries(response.alternatives ?? {}).map(([type, schema]) => [
                  type,
                  { schema },
                ]),
              ),
            },
          }
        : {}),
    };
  }
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of routeProblemCodes(spec)) {
    const status = PROBLEM_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = problemResponse(codes, everyAnswer);
  }

  const request = spec.request ?? {};
  const headers = spec.idempotency
    ? request.headers
      ? request.headers.extend(IdempotencyKeyHeader(spec.idempotency === 'required').shape)
      : IdempotencyKeyHeader(spec.idempotency === 'required')
    : request.headers;

  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags,
    ...(spec.access === 'public' ? { security: [] } : { security: [{ bearerAuth: [] }] }),
    request: {
      ...(request.params ? { params: request.params } : {}),
      ...(request.query ? { query: request.query } : {}),
      ...(headers ? { headers } : {}),
      ...(request.body
        ? {
            body: {
              required: true,
              description: bodyLimitNote(spec),
              content: {
                [spec.bodyType === 'multipart'
                  ? 'multipart/form-data'
                  : spec.bodyType === 'form'
                    ? 'application/x-www-form-urlencoded'
                    : 'application/json']: {
                  schema: request.body,
                },
              },
            },
          }
        : {}),
    },
    responses,
    // The limit as a number for tools; the request body's description says it in words.
    ...(request.body ? { 'x-body-limit': routeBodyLimitBytes(spec) } : {}),
  };
}

function bodyLimitNote(spec: RouteSpec): string {
  const bytes = routeBodyLimitBytes(spec);
  const what = spec.bodyType === 'multipart' ? 'The whole multipart request' : 'The JSON body';
  return (
    `${what} is at most ${bytes} bytes (${spec.bodyLimit ?? '1mb'}); a larger one is answered ` +
    '413 PAYLOAD_TOO_LARGE with Connection: close (refused before 100 Continue when its ' +
    'Content-Length says so).'
  );
}

export interface OpenApiOptions {
  /** `/` (relative: the host serving the document) or an absolute URL (the committed export). */
  serverUrl: string;
  /** Names the environment in servers[0].description (OWASP API9: inventory). */
  environment?: 'production' | 'development' | 'test';
}

/** The OpenAPI 3.1 document, generated from the same route declarations the app mounts. */
export function buildOpenApiDocument(routes: RouteSpec[], options: OpenApiOptions) {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', ProblemSchema);
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'The accessToken from /auth/register, /auth/login or /auth/refresh: a JWS (HS256) that ' +
      'follows RFC8725 — the algorithm is pinned, iss, aud and typ (at+jwt) are verified, and ' +
      'it expires after 15 minutes; refresh tokens are opaque and rotated.',
  });
  for (const route of routes) registry.registerPath(toRouteConfig(route));

  const generator = new OpenApiGeneratorV31(registry.definitions);
  const document = generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'backend-api',
      version: '1.0.0',
      description:
        'Point-of-sale backend: offline-safe sales, catalog, inventory, M-Pesa payments and signed webhooks. ' +
        'Errors are RFC 9457 problem documents with a stable `code` and a `retryable` flag.',
    },
    servers: [
      {
        url: options.serverUrl,
        description:
          SERVER_DESCRIPTIONS[options.environment ?? 'development'] +
          (options.serverUrl.startsWith('/') ? ': the host serving this document' : ''),
        'x-internal': false,
      },
    ],
    security: [{ bearerAuth: [] }],
  });
  addImpliedBounds(document);
  return document;
}

const SERVER_DESCRIPTIONS = {
  production: 'production (PUBLIC_URL)',
  development: 'local development (pnpm dev)',
  test: 'test',
} as const;
