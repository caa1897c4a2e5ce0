import autocannon from 'autocannon';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  token?: string;
  /** Extra request headers (e.g. If-None-Match). */
  headers?: Record<string, string>;
  /** A fixed body, or a function making a fresh one per request (unique ids). */
  body?: unknown;
  /** Per request: the caller's token and body (requests spread over several callers). */
  perRequest?: () => { token: string; body: unknown };
}

export interface LoadResult {
  name: string;
  connections: number;
  requestsPerSecond: number;
  /** Only 2xx answers (or the scenario's `okStatus`) count towards the ratios. */
  okPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** API process CPU (user + system) per request in the measured run, ms. */
  serverCpuMsPerRequest: number;
  /** CPU of the PostgreSQL backends serving the app (user + system) per request, ms. */
  databaseCpuMsPerRequest: number;
  /** What the scenario's checks found (rows written, deadlocks, …). */
  checks: Record<string, number | boolean>;
}

export interface LoadOptions {
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** The API process's CPU time so far, ms (read around the measured run). */
  serverCpuMs?: () => Promise<number>;
  /** The app's PostgreSQL backends' CPU time so far, ms. */
  databaseCpuMs?: () => Promise<number>;
  /** The status that counts as success instead of 2xx (304 for revalidations). */
  okStatus?: number;
  /** Runs right before the measured run (after warm-up): take "before" counts here. */
  before?: () => Promise<void>;
  /** Runs right after the measured run: the scenario's checks. */
  after?: (result: autocannon.Result) => Promise<Record<string, number | boolean>>;
}

function requestsFor(request: LoadRequest): autocannon.Request[] {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...request.headers,
  };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  const { body, perRequest } = request;
  if (perRequest) {
    return [
      {
        method: request.method,
        path: request.path,
        headers,
        setupRequest: (req: autocannon.Request) => {
          const { token, body: fresh } = perRequest();
          return {
            ...req,
            headers: { ...headers, authorization: `Bearer ${token}` },
            body: JSON.stringify(fresh),
          };
        },
      },
    ];
  }
  const make = typeof body === 'function' ? (body as () => unknown) : undefined;
  return [
    {
      method: request.method,
      path: request.path,
      headers,
      ...(body !== undefined && !make ? { body: JSON.stringify(body) } : {}),
      ...(make
        ? { setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify(make()) }) }
        : {}),
    },
  ];
}

export function once(url: string, request: LoadRequest, connections: number, seconds: number) {
  return autocannon({ url, connections, duration: seconds, requests: requestsFor(request) });
}

/** A warm-up run (discarded), then the measured run, with autocannon at N connections. */
export async function measure(
  name: string,
  url: string,
  request: LoadRequest,
  options: LoadOptions,
): Promise<LoadResult> {
  if (options.warmupSeconds > 0)
    await once(url, request, options.connections, options.warmupSeconds);
  await options.before?.();
  const cpuBefore = (await options.serverCpuMs?.()) ?? 0;
  const dbCpuBefore = (await options.databaseCpuMs?.()) ?? 0;
  const result = await once(url, request, options.connections, options.seconds);
  const cpuAfter = (await options.serverCpuMs?.()) ?? 0;
  const dbCpuAfter = (await options.databaseCpuMs?.()) ?? 0;
  const checks = (await options.after?.(result)) ?? {};
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  return {
    name,
    connections: options.connections,
    requestsPerSecond: result.requests.total / options.seconds,
    okPerSecond:
      (options.okStatus === undefined
        ? result.requests.total - result.non2xx
        : (statusCodes[String(options.okStatus)] ?? 0)) / options.seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    serverCpuMsPerRequest:
      result.requests.total > 0 ? (cpuAfter - cpuBefore) / result.requests.total : 0,
    databaseCpuMsPerRequest:
      result.requests.total > 0 ? (dbCpuAfter - dbCpuBefore) / result.requests.total : 0,
    checks,
  };
}
