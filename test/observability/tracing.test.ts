import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusiness } from '../helpers/factories.js';
import { eventually } from '../helpers/jobs.js';
import {
  SPAN_KIND,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../helpers/otlp-receiver.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { call, cleanups, createStack, killHard, type Stack } from '../helpers/resilience.js';
import { logLines, startTracedApi, startTracedWorker } from '../helpers/observability.js';

// The real API and worker processes, started as `pnpm start` starts them (the register file
// first), export over OTLP/HTTP to a real receiver that decodes what arrives.

const byTrace = (spans: ReceivedSpan[], traceId: string) =>
  spans.filter((span) => span.traceId === traceId);

/** True when `span` descends from `ancestor` through the spans received. */
function descendsFrom(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan) {
  const byId = new Map(spans.map((item) => [item.spanId, item]));
  for (let current: ReceivedSpan | undefined = span; current;) {
    if (current.parentSpanId === ancestor.spanId) return true;
    current = byId.get(current.parentSpanId);
  }
  return false;
}

describe('OpenTelemetry traces (OTLP http/protobuf), request → outbox → worker → webhook', () => {
  const undo = cleanups();
  let otlp: OtlpReceiver;
  let hooks: Receiver;
  let stack: Stack;
  let api: { base: string; proc: SpawnedProcess };
  let worker: SpawnedProcess;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    undo.add(() => otlp.close());
    hooks = await startReceiver();
    undo.add(() => hooks.close());
    stack = await createStack({
      env: {
        OUTBOX_POLL_MS: '100',
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
        // Every trace kept (the default keeps one in ten): the test follows each one.
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        OTEL_SERVICE_NAME: 'backend-api-test',
        // Export within 100 ms rather than 5 s (read by the SDK's batch processor).
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    undo.add(() => stack.close());
    [api, worker] = await Promise.all([startTracedApi(stack.env), startTracedWorker(stack.env)]);
    undo.add(() => killHard(api.proc));
    undo.add(() => killHard(worker));
  }, 400_000);
  afterAll(() => undo.run());

  it('one trace holds the sale request (route template, PostgreSQL children), the relay, the worker job and the webhook POST, and the integrator receives its traceparent', async () => {
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id, {
      price: 5_000,
      stockQuantity: 100,
    });
    const endpoint = await call(`${api.base}/webhooks`, {
      body: { url: hooks.url, events: ['sale.created'] },
      auth: business.owner.auth,
    });
    expect(endpoint).toMatchObject({ kind: 'response', status: 201 });

    const sale = await call(`${api.base}/sales`, {
      body: saleBody([{ product }]),
      auth: business.cashier.auth,
    });
    expect(sale).toMatchObject({ kind: 'response', status: 201 });
    const delivered = await eventually(
      () => hooks.received.find((hook) => hook.body.includes('sale.created')),
      30_000,
      'the sale.created webhook',
    );

    // The integrator's receiver got W3C trace context: version-traceid-spanid-flags.
    const traceparent = String(delivered.headers.traceparent ?? '');
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = traceparent.split('-')[1]!;

    const trace = await eventually(
      () => {
        const spans = byTrace(otlp.spans, traceId);
        const done = spans.some(
          (span) => span.kind === SPAN_KIND.client && span.attributes['url.full'] === hooks.url,
        );
        // Each span is exported when it ends: the job's after the POST it made.
        const names = new Set(spans.map((span) => span.name));
        return done &&
          ['POST /sales', 'send webhooks', 'process webhooks'].every((name) => names.has(name))
          ? spans
          : undefined;
      },
      30_000,
      'the whole trace at the receiver',
    );

    // The request: a server span named after the route template, with its status.
    const server = trace.find((span) => span.name === 'POST /sales')!;
    expect(server).toMatchObject({
      kind: SPAN_KIND.server,
      parentSpanId: '',
      attributes: {
        'http.route': '/sales',
        'http.request.method': 'POST',
        'http.response.status_code': 201,
      },
      resource: { 'service.name': 'backend-api-test', 'service.instance.role': 'api' },
    });
    // PostgreSQL calls are its children.
    const queries = trace.filter(
      (span) =>
        span.attributes['db.system.name'] === 'postgresql' ||
        span.attributes['db.system'] === 'postgresql',
    );
    expect(queries.some((span) => descendsFrom(trace, span, server))).toBe(true);

    // The relay's send span continues the request; the worker's job continues the send.
    const send = trace.find((span) => span.name === 'send webhooks')!;
    expect(send).toMatchObject({
      kind: SPAN_KIND.producer,
      attributes: { 'messaging.system': 'bullmq', 'messaging.destination.name': 'webhooks' },
    });
    expect(descendsFrom(trace, send, server)).toBe(true);
    const job = trace.find((span) => span.name === 'process webhooks')!;
    expect(job).toMatchObject({
      kind: SPAN_KIND.consumer,
      parentSpanId: send.spanId,
      attributes: { 'messaging.operation.type': 'process', 'messaging.bullmq.job.name': 'deliver' },
      resource: { 'service.instance.role': 'worker' },
    });
    // The webhook POST is the job's child, and its span id is the parent the receiver saw.
    const post = trace.find(
      (span) => span.kind === SPAN_KIND.client && span.attributes['url.full'] === hooks.url,
    )!;
    expect(descendsFrom(trace, post, job)).toBe(true);
    expect(traceparent.split('-')[2]).toBe(post.spanId);
    // The worker's own PostgreSQL work is in the same trace.
    expect(queries.some((span) => descendsFrom(trace, span, job))).toBe(true);

    // Every log line of the request names its trace.
    const requestLine = await eventually(
      () =>
        logLines(api.proc).find(
          (line) => line.msg === 'request completed' && line.traceId === traceId,
        ),
      10_000,
      'the request log line with its traceId',
    );
    expect(requestLine.requestId).toBeTruthy();
  }, 90_000);

  it('a problem body carries the traceId next to the requestId, and an incoming traceparent is continued', async () => {
    const incomingTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const answer = await fetch(`${api.base}/__test/echo`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${incomingTrace}-00f067aa0ba902b7-01`,
        'x-request-id': 'trace-me-1',
      },
      body: JSON.stringify({ name: '', quantity: 'x' }),
    });
    expect(answer.status).toBe(400);
    const problem = (await answer.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ requestId: 'trace-me-1', traceId: incomingTrace });

    const span = await eventually(
      () =>
        otlp.spans.find((item) => item.traceId === incomingTrace && item.kind === SPAN_KIND.server),
      10_000,
      'the server span of the continued trace',
    );
    expect(span).toMatchObject({
      name: 'POST /__test/echo',
      parentSpanId: '00f067aa0ba902b7',
      attributes: { 'http.response.status_code': 400 },
    });
  });

  it('puts no phone number, token or secret in any attribute', async () => {
    const business = await createBusiness(stack.deps);
    // A login (password in the body), a refresh token, and a search by phone number.
    const login = await call(`${api.base}/auth/login`, {
      body: { email: business.owner.email, password: 'Wrong-password-123' },
    });
    expect(login).toMatchObject({ kind: 'response', status: 401 });
    await fetch(`${api.base}/bv-payments/mpesa/callback/super-secret-callback-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Body: { stkCallback: {} } }),
    });
    const search = await fetch(`${api.base}/products?q=254712345678`, {
      headers: { authorization: business.owner.auth },
    });
    expect(search.status).toBe(200);
    const [callback, products] = await eventually(
      () => {
        const found = [
          otlp.spans.find((span) => span.name === 'POST /bv-payments/mpesa/callback/:token'),
          otlp.spans.find((span) => span.name === 'GET /products'),
        ];
        return found.every(Boolean) ? found : undefined;
      },
      10_000,
      'the callback and search spans',
    );
    expect(callback!.attributes['url.path']).toBe('/bv-payments/mpesa/callback/[redacted]');
    expect(products!.attributes['url.query']).toBe('[redacted]');
    const everything = JSON.stringify(otlp.spans);
    for (const secret of [
      '254712345678',
      'Wrong-password-123',
      'super-secret-callback-token',
      business.owner.auth.replace('Bearer ', ''),
      hooks.secret ?? 'whsec_',
    ]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/authorization/i);
  });
});

describe('tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  const undo = cleanups();
  afterAll(() => undo.run());

  it('starts no SDK: nothing is exported, no traceId in problem bodies or log lines, a traceparent is not echoed', async () => {
    // Listening where an SDK would send by default (localhost:4318) when that port is free.
    const otlp = await startOtlpReceiver(4318).catch(() => startOtlpReceiver());
    undo.add(() => otlp.close());
    const stack = await createStack({
      env: { LOG_LEVEL: 'info', OTEL_SERVICE_NAME: 'should-not-export' },
    });
    undo.add(() => stack.close());
    const api = await startTracedApi(stack.env);
    undo.add(() => killHard(api.proc));

    const answer = await fetch(`${api.base}/__test/echo`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      body: JSON.stringify({ name: '' }),
    });
    expect(answer.status).toBe(400);
    const problem = (await answer.json()) as Record<string, unknown>;
    expect(problem.requestId).toBeTruthy();
    expect(problem).not.toHaveProperty('traceId');

    // A graceful stop flushes whatever an SDK would hold: there is none.
    api.proc.child.kill('SIGTERM');
    expect(await api.proc.exited).toBe(0);
    const lines = logLines(api.proc);
    expect(lines.some((line) => line.msg === 'request completed')).toBe(true);
    expect(lines.filter((line) => 'traceId' in line)).toEqual([]);
    expect(otlp.requests()).toBe(0);
  }, 120_000);
});
