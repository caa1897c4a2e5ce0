import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import { and, eq, sql } from 'drizzle-orm';
import { idempotencyKeys } from '../../db/schema/index.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { AppError, validationFailed } from '../../lib/errors.js';
import type { AppContextExtensions, AppState } from '../context.js';
import { toProblem } from '../problem.js';

/** How long a first request may hold its key before a retry may take it over. */
const IN_FLIGHT_LOCK_SECONDS = 60;
/** Keys are kept at least this long (a till may retry for days). */
const RETENTION_DAYS = 7;
/** 1–255 visible ASCII characters (checked here, documented by openapi.ts). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
const KEY_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);
/** Headers worth replaying with a stored answer. */
const REPLAYED_HEADERS = ['location', 'etag'];

/**
 * 4xx answers that depend only on the request, so replaying them is the truth. Others
 * (401/402/403/404/409/412/429) may change with time or state, so the key is released.
 */
const DETERMINISTIC_4XX = new Set([400, 413, 415, 422]);

export interface IdempotencyOptions {
  required: boolean;
  /** The route template, part of the fingerprint: a key reused on another route is a reuse. */
  routePath: string;
}

/**
 * Idempotency-Key (IETF draft): same key + same body → the stored answer replayed with
 * `Idempotent-Replayed: true`; another body → 422; first still in flight → 409. The primary
 * key (business, key) decides races between processes; only 2xx and deterministic 4xx are
 * stored, anything else releases the key so a retry runs again.
 */
export function idempotency(
  options: IdempotencyOptions,
): Middleware<AppState, AppContextExtensions> {
  return async (ctx, next) => {
    const auth = ctx.state.auth;
    if (!auth) throw new Error('idempotency() requires an authenticated route');
    const key = readKey(ctx.headers['idempotency-key'], options.required);
    if (key === undefined) {
      await next();
      return;
    }

    const { db } = ctx.deps;
    const fingerprint = createHash('sha256')
      .update(
        `${ctx.method} ${options.routePath}\n${canonicalJson((ctx.input as { body?: unknown }).body ?? null)}`,
      )
      .digest('hex');
    const where = and(
      eq(idempotencyKeys.businessId, auth.businessId),
      eq(idempotencyKeys.key, key),
    );

    // Claim the key, or take it over when expired or abandoned by a crashed process.
    const claimed = await db
      .insert(idempotencyKeys)
      .values({
        businessId: auth.businessId,
        key,
        method: ctx.method,
        path: options.routePath,
        fingerprint,
        lockedUntil: sql`now() + make_interval(secs => ${IN_FLIGHT_LOCK_SECONDS})`,
        expiresAt: sql`now() + make_interval(days => ${RETENTION_DAYS})`,
      })
      .onConflictDoUpdate({
        target: [idempotencyKeys.businessId, idempotencyKeys.key],
        set: {
          method: sql`excluded.method`,
          path: sql`excluded.path`,
          fingerprint: sql`excluded.fingerprint`,
          responseStatus: null,
          responseBody: null,
          responseHeaders: null,
          lockedUntil: sql`excluded.locked_until`,
          createdAt: sql`now()`,
          expiresAt: sql`excluded.expires_at`,
        },
        setWhere: sql`${idempotencyKeys.expiresAt} < now() or (${idempotencyKeys.responseStatus} is null and ${idempotencyKeys.lockedUntil} < now() and ${idempotencyKeys.fingerprint} = excluded.fingerprint)`,
      })
      .returning({ key: idempotencyKeys.key });

    if (claimed.length === 0) {
      const [existing] = await db.select().from(idempotencyKeys).where(where).limit(1);
      if (!existing) {
        throw new AppError(
          'IDEMPOTENCY_REQUEST_IN_PROGRESS',
          'A request with this key is being processed',
        );
      }
      if (existing.fingerprint !== fingerprint) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request body; use a new key for a new request',
        );
      }
      if (existing.responseStatus === null) {
        throw new AppError(
          'IDEMPOTENCY_REQUEST_IN_PROGRESS',
          'The first request with this Idempotency-Key is still being processed; retry shortly',
          { headers: { 'Retry-After': '1' } },
        );
      }
      ctx.status = existing.responseStatus;
      ctx.set(existing.responseHeaders ?? {});
      ctx.set('Idempotent-Replayed', 'true');
      ctx.body = existing.responseBody;
      return;
    }

    let status: number;
    let body: unknown;
    let headers: Record<string, string>;
    try {
      await next();
      status = ctx.status;
      body = ctx.body;
      headers = pickHeaders(ctx.response.headers);
    } catch (error) {
      const problem = toProblem(error, ctx.state.requestId);
      if (DETERMINISTIC_4XX.has(problem.status)) {
        await db
          .update(idempotencyKeys)
          .set({
            responseStatus: problem.status,
            responseBody: problem.body,
            responseHeaders: { 'content-type': 'application/problem+json' },
          })
          .where(where);
      } else {
        await release(ctx.deps.db, where);
      }
      throw error;
    }
    if ((status >= 200 && status < 300) || DETERMINISTIC_4XX.has(status)) {
      await db
        .update(idempotencyKeys)
        .set({ responseStatus: status, responseBody: body ?? null, responseHeaders: headers })
        .where(where);
    } else {
      await release(db, where);
    }
  };
}

async function release(db: AppContextExtensions['deps']['db'], where: ReturnType<typeof and>) {
  // Best effort: if this fails, the in-flight lock expires and a retry takes the key over.
  await db
    .delete(idempotencyKeys)
    .where(and(where, sql`${idempotencyKeys.responseStatus} is null`))
    .catch(() => undefined);
}

/** The header as sent: absent (undefined) is not the same as present but empty. */
function readKey(sent: string | string[] | undefined, required: boolean): string | undefined {
  if (sent === undefined) {
    if (!required) return undefined;
    throw validationFailed(
      [
        {
          path: 'headers.idempotency-key',
          message: 'The Idempotency-Key header is required',
          code: 'required',
        },
      ],
      'This operation requires an Idempotency-Key header',
    );
  }
  // Node joins repeated Idempotency-Key headers with ", " (not a valid key: refused below).
  const header = Array.isArray(sent) ? sent.join(', ') : sent;
  // A double-quoted value (structured-header string) is the same key.
  const key =
    header.length >= 2 && header.startsWith('"') && header.endsWith('"')
      ? header.slice(1, -1)
      : header;
  if (!KEY_PATTERN.test(key)) {
    throw validationFailed([
      {
        path: 'headers.idempotency-key',
        message: 'must be 1–255 visible ASCII characters (a UUID is recommended)',
        code: 'invalid_format',
      },
    ]);
  }
  return key;
}

function pickHeaders(headers: Record<string, unknown>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') picked[name] = value;
  }
  return picked;
}
