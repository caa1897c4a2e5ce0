import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadJobs, outbox, webhookDeliveries } from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually } from '../helpers/jobs.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import type { SpawnedProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';
import { startSentryReceiver, type SentryReceiver } from '../helpers/sentry-receiver.js';
import { call, cleanups, createStack, killHard, type Stack } from '../helpers/resilience.js';
import { startTracedApi, startTracedWorker } from '../helpers/observability.js';

// Error tracking against a real Sentry ingestion endpoint (envelopes over HTTP), with the
// API and worker processes started as in production.

type SentryEvent = Record<string, unknown> & {
  tags?: Record<string, string>;
  exception?: { values?: { type?: string; value?: string }[] };
};

describe('Sentry error reports (SENTRY_DSN)', () => {
  const undo = cleanups();
  let sentry: SentryReceiver;
  let otlp: OtlpReceiver;
  let failingHooks: Receiver;
  let stack: Stack;
  let api: { base: string; proc: SpawnedProcess };
  let worker: SpawnedProcess;

  beforeAll(async () => {
    sentry = await startSentryReceiver();
    undo.add(() => sentry.close());
    otlp = await startOtlpReceiver();
    undo.add(() => otlp.close());
    failingHooks = await startReceiver(() => 503);
    undo.add(() => failingHooks.close());
    stack = await createStack({
      env: {
        OUTBOX_POLL_MS: '100',
        SENTRY_DSN: sentry.dsn,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
        // Every trace kept (the default keeps one in ten): the test follows each one.
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Two webhook attempts 50 ms apart, then the delivery is dead.
        WEBHOOK_RETRY_SCHEDULE_MS: '50',
      },
    });
    undo.add(() => stack.close());
    [api, worker] = await Promise.all([startTracedApi(stack.env), startTracedWorker(stack.env)]);
    undo.add(() => killHard(api.proc));
    undo.add(() => killHard(worker));
  }, 400_000);
  afterAll(() => undo.run());

  it('reports a thrown error and a 5xx once each, with release, environment, request id, trace id, route and business, and nothing sensitive; 4xx are not reported', async () => {
    const business = await createBusiness(stack.deps);
    // Refusals first: none of them may produce an event.
    expect((await call(`${api.base}/__test/echo`, { body: { name: '' } })).kind).toBe('response');
    expect(await call(`${api.base}/no-such-route`)).toMatchObject({ status: 404 });
    expect(
      await call(`${api.base}/__test/counter`, {
        body: { amount: 1, fail: '422' },
        auth: business.owner.auth,
      }),
    ).toMatchObject({ status: 400 }); // Idempotency-Key missing
    const boom = await fetch(`${api.base}/__test/boom`, { headers: { 'x-request-id': 'boom-1' } });
    expect(boom.status).toBe(500);
    const boomProblem = (await boom.json()) as { requestId: string; traceId: string };
    expect(boomProblem.traceId).toMatch(/^[0-9a-f]{32}$/);
    const internal = await fetch(`${api.base}/__test/counter`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: business.owner.auth,
        'idempotency-key': randomUUID(),
        'x-request-id': 'internal-1',
      },
      body: JSON.stringify({ amount: 1, fail: '500' }),
    });
    expect(internal.status).toBe(500);

    const events = await eventually(
      () => (sentry.events().length >= 2 ? (sentry.events() as SentryEvent[]) : undefined),
      20_000,
      'two events at the Sentry receiver',
    );
    expect(events).toHaveLength(2);
    const thrown = events.find((event) => event.tags?.requestId === 'boom-1')!;
    expect(thrown).toMatchObject({
      release: 'backend-api@0.1.0',
      environment: 'test',
      tags: { route: '/__test/boom', method: 'GET', status: '500', traceId: boomProblem.traceId },
      contexts: { trace: { trace_id: boomProblem.traceId } },
    });
    expect(thrown.exception?.values?.[0]).toMatchObject({ type: 'Error' });
    expect(thrown.exception?.values?.[0]?.value).toContain('password=[redacted]');
    expect(thrown).not.toHaveProperty('request');

    const answered500 = events.find((event) => event.tags?.requestId === 'internal-1')!;
    expect(answered500).toMatchObject({
      tags: { route: '/__test/counter', businessId: business.id, status: '500' },
      user: { id: business.owner.id },
    });

    // The envelopes as they crossed the wire: no password, token or address.
    const wire = sentry.envelopes.map((envelope) => envelope.raw).join('\n');
    expect(wire).not.toContain('hunter2');
    expect(wire).not.toContain(business.owner.auth.replace('Bearer ', ''));
    expect(wire).not.toContain('ip_address');
    expect(sentry.envelopes[0]!.auth).toContain('sentry_key=testkey');
  });

  it('reports an internal job that failed for good, but not a customer endpoint that stayed down', async () => {
    const business = await createBusiness(stack.deps);
    const product = await insertProduct(stack.deps, business.id, business.manager.id, {
      price: 1_000,
      stockQuantity: 10,
    });
    const endpoint = await call(`${api.base}/webhooks`, {
      body: { url: failingHooks.url, events: ['sale.created'] },
      auth: business.owner.auth,
    });
    expect(endpoint).toMatchObject({ status: 201 });
    const sale = await call(`${api.base}/sales`, {
      body: saleBody([{ product }]),
      auth: business.cashier.auth,
    });
    expect(sale).toMatchObject({ status: 201 });
    await eventually(
      async () => {
        const [delivery] = await stack.deps.db
          .select({ status: webhookDeliveries.status })
          .from(webhookDeliveries)
          .where(eq(webhookDeliveries.businessId, business.id));
        const [dead] = await stack.deps.db
          .select({ id: deadJobs.id })
          .from(deadJobs)
          .where(eq(deadJobs.queue, 'webhooks'));
        return delivery?.status === 'dead' && dead !== undefined;
      },
      30_000,
      'the webhook delivery to be dead',
    );

    // An email the worker can never send (no such template): an error of ours.
    const messageId = newId();
    await stack.deps.db.insert(outbox).values({
      messageId,
      kind: 'email',
      type: 'no-such-template',
      businessId: business.id,
      payload: { to: 'owner@example.test' },
    });
    const reported = await eventually(
      () => (sentry.events() as SentryEvent[]).find((event) => event.tags?.jobId === messageId),
      30_000,
      'the dead email job at the Sentry receiver',
    );
    expect(reported).toMatchObject({
      tags: { queue: 'email', jobName: 'no-such-template' },
      exception: { values: [{ value: 'unknown email template no-such-template' }] },
    });
    const [deadEmail] = await stack.deps.db
      .select({ id: deadJobs.id })
      .from(deadJobs)
      .where(and(eq(deadJobs.queue, 'email'), eq(deadJobs.jobId, messageId)));
    expect(deadEmail).toBeDefined();
    // The webhook died first, and was never reported.
    expect(
      (sentry.events() as SentryEvent[]).filter((event) => event.tags?.queue === 'webhooks'),
    ).toEqual([]);
  });
});
