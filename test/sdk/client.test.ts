import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError, createClient, idempotent, unwrap } from '../../sdk/src/index.js';
import { testEnv } from '../helpers/app.js';
import { freePort, spawnTs, waitForHttp, type SpawnedProcess } from '../helpers/process.js';

let server: SpawnedProcess;
let baseUrl: string;

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawnTs('test/fixtures/api-process.ts', {
    ...testEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_TOKEN: 'sdk-metrics-token',
  });
  await waitForHttp(`${baseUrl}/health`);
});

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

describe('the generated SDK against the live server', () => {
  it('makes typed calls', async () => {
    const api = createClient({ baseUrl });
    const health = await unwrap(api.GET('/health'));
    expect(health.status).toBe('ok');
    const ready = await unwrap(api.GET('/ready'));
    expect(ready.checks.database).toBe('ok');
  });

  it('turns problem documents into ProblemError with code, retryable and requestId', async () => {
    const api = createClient({ baseUrl, token: 'wrong-metrics-token' });
    const error = await unwrap(
      api.GET('/metrics', { headers: { 'x-request-id': 'sdk-test-1' } }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({
      status: 401,
      code: 'UNAUTHENTICATED',
      retryable: false,
      requestId: 'sdk-test-1',
    });
  });

  it('idempotent() keeps one key across retries of lost connections and stops on a final answer', async () => {
    let attempts = 0;
    const keys = new Set<string>();
    const flakyFetch: typeof fetch = async (input, init) => {
      attempts += 1;
      if (attempts <= 2) throw new TypeError('fetch failed: connection reset');
      return fetch(input, init);
    };
    const api = createClient({ baseUrl, fetch: flakyFetch });
    const health = await idempotent(
      async (key) => {
        keys.add(key);
        return unwrap(api.GET('/health'));
      },
      { sleep: () => Promise.resolve() },
    );
    expect(health.status).toBe('ok');
    expect(attempts).toBe(3);
    expect(keys.size).toBe(1);

    let calls = 0;
    await expect(
      idempotent(
        () => {
          calls += 1;
          return Promise.reject(
            new ProblemError(
              { code: 'UNPROCESSABLE', status: 422, retryable: false },
              new Response(null, { status: 422 }),
            ),
          );
        },
        { sleep: () => Promise.resolve() },
      ),
    ).rejects.toMatchObject({ code: 'UNPROCESSABLE' });
    expect(calls).toBe(1);
  });

  it('idempotent() honours Retry-After and gives up after maxAttempts', async () => {
    const waits: number[] = [];
    const limited = () =>
      new ProblemError(
        { code: 'RATE_LIMITED', status: 429, retryable: true },
        new Response(null, { status: 429, headers: { 'retry-after': '7' } }),
      );
    await expect(
      idempotent(() => Promise.reject(limited()), {
        maxAttempts: 3,
        sleep: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      }),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(waits).toEqual([7000, 7000]);
  });
});
