import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { PROBLEM_CODES, PROBLEM_CODE_LIST, type ProblemCode } from './lib/errors.js';
import { z } from './lib/zod.js';
import { routeProblemCodes, type RouteSpec } from './http/route.js';

export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: '/errors/validation-failed' }),
    title: z.string(),
    status: z.int(),
    code: z.enum(PROBLEM_CODE_LIST as [ProblemCode, ...ProblemCode[]]),
    detail: z.string(),
    retryable: z
      .boolean()
      .describe(
        'Whether an offline queue should retry the same request later (408/429/5xx, request in progress).',
      ),
    requestId: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string(), code: z.string() }))
      .optional()
      .describe('Every schema violation, or the field a conflict is about.'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

const problemResponse = (status: number, codes: ProblemCode[]): ResponseConfig => ({
  description: `${codes.map((code) => `\`${code}\``).join(', ')} — ${codes.map((code) => PROBLEM_CODES[code].title).join('; ')}`,
  content: { 'application/problem+json': { schema: ProblemSchema } },
  ...(status === 429
    ? {
        headers: {
          'Retry-After': {
            description: 'Seconds to wait before retrying',
            schema: { type: 'integer' },
          },
        },
      }
    : {}),
});

const IdempotencyKeyHeader = (required: boolean) =>
  z.object({
    'idempotency-key': (required ? z.string() : z.string().optional()).openapi({
      description:
        'Opaque key of 1–255 visible ASCII characters (a UUID is recommended). The same key with the same body replays the stored answer.',
      example: '0190f1c2-7a3e-7c1d-9b2a-3f4e5d6c7b8a',
    }),
  });

function toRouteConfig(spec: RouteSpec): RouteConfig {
  const responses: Record<string, ResponseConfig> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    if (!response) continue;
    responses[status] = {
      description: response.description,
      ...(response.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(response.headers).map(([name, header]) => [
                name,
                { description: header.description, schema: { type: 'string' } },
              ]),
            ),
          }
        : {}),
      ...(response.schema
        ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } }
        : {}),
    };
  }
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of routeProblemCodes(spec)) {
    const status = PROBLEM_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = problemResponse(status, codes);
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
              content: {
                [spec.bodyType === 'multipart' ? 'multipart/form-data' : 'application/json']: {
                  schema: request.body,
                },
              },
            },
          }
        : {}),
    },
    responses,
  };
}

export interface OpenApiOptions {
  serverUrl: string;
}

/** The OpenAPI 3.1 document, generated from the same route declarations the app mounts. */
export function buildOpenApiDocument(routes: RouteSpec[], options: OpenApiOptions) {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', ProblemSchema);
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The accessToken from /auth/register, /auth/login or /auth/refresh (15 minutes).',
  });
  for (const route of routes) registry.registerPath(toRouteConfig(route));

  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'backend-api',
      version: '1.0.0',
      description:
        'Point-of-sale backend: offline-safe sales, catalog, inventory, M-Pesa payments and signed webhooks. ' +
        'Errors are RFC 9457 problem documents with a stable `code` and a `retryable` flag.',
    },
    servers: [{ url: options.serverUrl }],
    security: [{ bearerAuth: [] }],
  });
}
