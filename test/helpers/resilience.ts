import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { asc, eq } from 'drizzle-orm';
import pg from 'pg';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { sales } from '../../src/db/schema/index.js';
import { closeDeps, createDeps, type AppDeps } from '../../src/deps.js';
import { createLogger } from '../../src/lib/logger.js';
import { testEnv } from './app.js';
import { eventually, filePrefix, sleep } from './jobs.js';
import { createDatabase, dropDatabase } from './postgres-server.js';
import { freePort, spawnTs, waitForHttp, type SpawnedProcess } from './process.js';
import { saleBody, stockOf, type TestProduct } from './sales-factories.js';

export const SHARED_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** What the API process calls itself in pg_stat_activity (src/http/run-api.ts). */
export const API_APPLICATION_NAME = 'backend-api';

export interface Stack {
  databaseName: string;
  databaseUrl: string;
  adminUrl: string;
  /** Environment for API and worker children: this database, a Redis prefix of its own. */
  env: Record<string, string | undefined>;
  /** The test's own connections (factories, counting), named apart from the children's. */
  deps: AppDeps;
  close: () => Promise<void>;
}

/**
 * A migrated database of the file's own, so a test may kill every backend of it (or the
 * whole server, for a private one) without touching other files' connections.
 */
export async function createStack(
  options: { adminUrl?: string; env?: Record<string, string | undefined> } = {},
): Promise<Stack> {
  const adminUrl = options.adminUrl ?? SHARED_ADMIN_URL;
  const databaseName = `bapi_res_${randomBytes(4).toString('hex')}`;
  const databaseUrl = await createDatabase(adminUrl, databaseName);
  const pool = createPool({ url: databaseUrl, poolMax: 2, applicationName: 'resilience-migrate' });
  await runMigrations(pool);
  await pool.end();
  const env = testEnv({ DATABASE_URL: databaseUrl, ...options.env });
  if (options.env?.REDIS_PREFIX === undefined) env.REDIS_PREFIX = filePrefix(env.REDIS_PREFIX!);
  const config = loadConfig(env);
  const deps = createDeps({
    config,
    logger: createLogger(config),
    databaseUrl,
    applicationName: 'resilience-test',
  });
  return {
    databaseName,
    databaseUrl,
    adminUrl,
    env,
    deps,
    close: async () => {
      await closeDeps(deps);
      await dropDatabase(adminUrl, databaseName);
    },
  };
}

export interface ApiProcess {
  base: string;
  proc: SpawnedProcess;
}

/** The real API entry point (src/server.ts) as a child process, answering on a free port. */
export async function startApi(env: Record<string, string | undefined>): Promise<ApiProcess> {
  const port = await freePort();
  const proc = spawnTs('src/server.ts', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForHttp(`${base}/health`, 90_000),
    proc.exited.then((code) => {
      throw new Error(`the API exited (${code}) before answering:\n${proc.output()}`);
    }),
  ]);
  return { base, proc };
}

/** The real worker entry point (src/worker.ts), resolved once it says it started. */
export async function startWorker(
  env: Record<string, string | undefined>,
): Promise<SpawnedProcess> {
  const proc = spawnTs('src/worker.ts', { ...env, LOG_LEVEL: 'info' });
  await eventually(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`worker exited:\n${proc.output()}`);
      return proc.output().includes('worker started');
    },
    90_000,
    'the worker to start',
  );
  return proc;
}

/**
 * Undo steps registered as resources come up, run newest first after the file's tests
 * (also when a start-up step failed halfway).
 */
export function cleanups() {
  const steps: (() => Promise<unknown>)[] = [];
  return {
    add: (step: () => Promise<unknown>) => steps.push(step),
    run: async () => {
      for (const step of steps.reverse()) await step().catch(() => undefined);
      steps.length = 0;
    },
  };
}

/** SIGKILL unless it already exited (cleanup after a failed test). */
export async function killHard(proc: SpawnedProcess | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGKILL');
  await proc.exited;
}

export type Answer =
  | { kind: 'response'; status: number; contentType: string; body: Record<string, unknown> }
  | { kind: 'socket'; code: string };

export interface CallOptions {
  method?: string;
  body?: unknown;
  auth?: string;
  /** Keep-alive agent to reuse connections; `false` opens a new connection per request. */
  agent?: http.Agent | false;
  /** A response slower than this counts as a hang (the test then fails on it). */
  timeoutMs?: number;
}

/**
 * One HTTP request over node:http (so the test controls connections), resolving to the
 * response or to the socket error; a request that gets no answer within `timeoutMs` is a
 * `HANG`.
 */
export function call(url: string, options: CallOptions = {}): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve) => {
    const request = http.request(
      url,
      {
        method: options.method ?? (payload ? 'POST' : 'GET'),
        agent: options.agent ?? false,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(options.auth ? { authorization: options.auth } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { unparsed: text };
          }
          resolve({
            kind: 'response',
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'] ?? '',
            body,
          });
        });
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ kind: 'socket', code: error.code ?? error.message }),
        );
      },
    );
    request.setTimeout(options.timeoutMs ?? 30_000, () => {
      request.destroy(Object.assign(new Error('no answer'), { code: 'HANG' }));
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ kind: 'socket', code: error.code ?? error.message }),
    );
    if (payload) request.write(payload);
    request.end();
  });
}

/** A failure a till may retry: 503 problem+json with `retryable: true`, or a socket error. */
export function expectRetryableFailure(answer: Answer): void {
  if (answer.kind === 'socket') {
    expect(answer.code).not.toBe('HANG');
    return;
  }
  expect({
    status: answer.status,
    code: answer.body.code,
    retryable: answer.body.retryable,
  }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', retryable: true });
  expect(answer.contentType).toContain('application/problem+json');
}

/**
 * A till recording one sale: sends the same body (same clientRequestId) until the server
 * answers 201 or 200 (a replay), collecting every failed answer on the way.
 */
export async function sellUntilRecorded(
  url: string,
  auth: string,
  body: Record<string, unknown>,
  failures: Answer[],
  agent?: http.Agent,
): Promise<Answer & { kind: 'response' }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const answer = await call(url, { body, auth, agent });
    if (answer.kind === 'response' && (answer.status === 201 || answer.status === 200))
      return answer;
    failures.push(answer);
    // A client error will not get better by retrying: let the assertions report it.
    if (answer.kind === 'response' && answer.status < 500) return answer;
    if (Date.now() > deadline) throw new Error('the sale was never recorded');
    await sleep(100);
  }
}

/** Sales of a business in number order: the database's own account of what happened. */
export async function recordedSales(deps: AppDeps, businessId: string) {
  return deps.db
    .select({ id: sales.id, clientRequestId: sales.clientRequestId, number: sales.number })
    .from(sales)
    .where(eq(sales.businessId, businessId))
    .orderBy(asc(sales.number));
}

/**
 * The end state the promise is about: exactly the intended sales (no loss, no double),
 * numbered 1..N without gaps, and the product's stock equal to its ledger.
 */
export async function expectExactlyTheseSales(
  deps: AppDeps,
  businessId: string,
  intended: string[],
  product: { id: string; stockQuantity: number },
  quantityPerSale = 1,
): Promise<void> {
  const rows = await recordedSales(deps, businessId);
  expect(rows.map((row) => row.clientRequestId).sort()).toEqual([...intended].sort());
  expect(rows.map((row) => row.number)).toEqual(intended.map((_, index) => index + 1));
  const stock = await stockOf(deps, product.id);
  expect(stock.stockQuantity).toBe(stock.ledger);
  expect(stock.stockQuantity).toBe(product.stockQuantity - intended.length * quantityPerSale);
}

/** Terminates this database's backends of one application; returns how many. */
export async function terminateBackends(
  adminUrl: string,
  databaseName: string,
  applicationName: string,
): Promise<number> {
  const admin = new pg.Client({
    connectionString: adminUrl,
    application_name: 'resilience-killer',
  });
  await admin.connect();
  try {
    const result = await admin.query<{ killed: number }>(
      `select count(*) filter (where pg_terminate_backend(pid))::int as killed
       from pg_stat_activity
       where datname = $1 and application_name = $2 and pid <> pg_backend_pid()`,
      [databaseName, applicationName],
    );
    return result.rows[0]?.killed ?? 0;
  } finally {
    await admin.end();
  }
}

/** Counts answers by kind/status, for the report a failing assertion prints. */
export function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.kind === 'socket' ? `socket:${answer.code}` : String(answer.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** /ready answers 200 (database, migrations and Redis all answer). */
export async function isReady(base: string): Promise<boolean> {
  const answer = await call(`${base}/ready`);
  return answer.kind === 'response' && answer.status === 200;
}

/** Tills selling one sale after another (each retried until recorded) until stopped. */
export function startTills(
  api: ApiProcess | ApiProcess[],
  auth: string,
  product: TestProduct,
  tills: number,
) {
  const apis = Array.isArray(api) ? api : [api];
  const intended: string[] = [];
  const failures: Answer[] = [];
  const finals: Answer[] = [];
  let stopping = false;
  const done = Promise.all(
    Array.from({ length: tills }, async (_, index) => {
      // With several API processes, tills are spread over them as a load balancer would.
      const base = apis[index % apis.length]!.base;
      // Each till keeps its connection open, as a POS app's HTTP client does.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (!stopping) {
          const body = saleBody([{ product }]);
          intended.push(body.clientRequestId as string);
          finals.push(await sellUntilRecorded(`${base}/sales`, auth, body, failures, agent));
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  return {
    intended,
    failures,
    finals,
    /** Resolves once `more` further sales have been recorded. */
    progress: (more: number) => {
      const target = finals.length + more;
      return eventually(() => finals.length >= target, 90_000, `${more} more sales`);
    },
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}
