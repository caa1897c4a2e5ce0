import autocannon from 'autocannon';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  token?: string;
  /** A fixed body, or a function making a fresh one per request (unique ids). */
  body?: unknown;
}

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  /** Only 2xx answers count towards the ratios. */
  okPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

export interface LoadOptions {
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

function requestsFor(request: LoadRequest): autocannon.Request[] {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  const { body } = request;
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

function once(url: string, request: LoadRequest, connections: number, seconds: number) {
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
  const result = await once(url, request, options.connections, options.seconds);
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  return {
    name,
    requestsPerSecond: result.requests.average,
    okPerSecond: (result.requests.total - result.non2xx) / options.seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
  };
}
