import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deadJobs,
  outbox,
  webhookDeliveries,
  webhookEndpoints,
} from '../../src/db/schema/index.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { newId } from '../../src/lib/ids.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually, useJobs } from '../helpers/jobs.js';
import { startReceiver, verifies, type Receiver } from '../helpers/receiver.js';

// A compressed retry schedule: 4 attempts 200 ms apart instead of ≈ 27 hours.
const env = { WEBHOOK_RETRY_SCHEDULE_MS: '200,200,200', WEBHOOK_TIMEOUT_MS: '3000' };
const { http, deps } = createTestApp({ env });
const jobs = useJobs({ env });
const receivers: Receiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

interface Setup {
  business: TestBusiness;
  receiver: Receiver;
  webhookId: string;
  secret: string;
}

async function setup(
  answer: (index: number) => number = () => 200,
  events: string[] = ['sale.created'],
): Promise<Setup> {
  const business = await createBusiness(deps);
  jobs.businessIds.add(business.id);
  const receiver = await startReceiver(answer);
  receivers.push(receiver);
  const created = await http
    .post('/webhooks')
    .set('Authorization', business.owner.auth)
    .send({ url: receiver.url, events });
  expect(created.status).toBe(201);
  receiver.secret = created.body.secret;
  return { business, receiver, webhookId: created.body.id, secret: created.body.secret };
}

async function emit(business: TestBusiness, type: string, data: Record<string, unknown>) {
  const messageId = newId();
  await writeOutbox(deps.db, {
    kind: 'event',
    type,
    businessId: business.id,
    payload: data,
    messageId,
  });
  return messageId;
}

async function deliveries(s: Setup) {
  const response = await http
    .get(`/webhooks/${s.webhookId}/deliveries`)
    .set('Authorization', s.business.owner.auth);
  expect(response.status).toBe(200);
  return response.body.data as {
    id: string;
    eventId: string;
    eventType: string;
    status: string;
    nextAttemptAt?: string;
    attempts: { status: string; responseStatus?: number; durationMs: number; error?: string }[];
  }[];
}

describe('webhook delivery', () => {
  it('signs every delivery per Standard Webhooks: the reference library verifies it, a tampered body fails', async () => {
    const s = await setup();
    const sale = { id: newId(), total: 12_345, lines: [{ name: 'Unga 2kg', quantity: 1 }] };
    await emit(s.business, 'product.created', { id: newId() }); // not subscribed
    const messageId = await emit(s.business, 'sale.created', sale);

    const [entry] = await eventually(() => s.receiver.received.length === 1 && s.receiver.received);
    expect(entry!.id).toBe(messageId);
    expect(entry!.verified).toBe(true);
    expect(entry!.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(entry!.timestamp) - Date.now() / 1000)).toBeLessThan(300);
    const body = JSON.parse(entry!.body);
    expect(body).toEqual({ type: 'sale.created', timestamp: expect.any(String), data: sale });
    const [outboxRow] = await deps.db.select().from(outbox).where(eq(outbox.messageId, messageId));
    expect(body.timestamp).toBe(outboxRow!.createdAt.toISOString());

    const tampered = entry!.body.replace('12345', '1');
    expect(tampered).not.toBe(entry!.body);
    expect(verifies(s.secret, entry!, tampered)).toBe(false);
    expect(verifies(s.secret, { ...entry!, id: newId() }, entry!.body)).toBe(false);

    const list = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'succeeded' && rows;
    });
    expect(list).toHaveLength(1); // product.created made no delivery
    expect(list[0]).toMatchObject({
      eventId: messageId,
      eventType: 'sale.created',
      status: 'succeeded',
    });
    expect(list[0]!.attempts).toEqual([
      {
        at: expect.any(String),
        status: 'succeeded',
        responseStatus: 200,
        durationMs: expect.any(Number),
      },
    ]);
    expect(list[0]!.nextAttemptAt).toBeUndefined();
  });

  it('retries a receiver that answers 500 twice: three attempts recorded, delivered once, one webhook-id', async () => {
    const s = await setup((index) => (index < 2 ? 500 : 200));
    const messageId = await emit(s.business, 'sale.created', { id: newId() });
    const [delivery] = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'succeeded' && rows;
    });
    expect(delivery!.attempts.map((attempt) => [attempt.status, attempt.responseStatus])).toEqual([
      ['failed', 500],
      ['failed', 500],
      ['succeeded', 200],
    ]);
    expect(delivery!.attempts[0]!.error).toBe('HTTP 500');
    expect(s.receiver.received.map((entry) => entry.id)).toEqual([messageId, messageId, messageId]);
    expect(s.receiver.received.every((entry) => entry.verified)).toBe(true);
    expect(s.receiver.received.filter((entry) => entry.answered === 200)).toHaveLength(1);
  });

  it('marks a delivery dead after the schedule, records the dead job, and delivers on a manual retry', async () => {
    let status = 503;
    const s = await setup(() => status);
    const messageId = await emit(s.business, 'sale.created', { id: newId() });
    const [dead] = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'dead' && rows;
    });
    expect(dead!.attempts).toHaveLength(4); // first try + 3 retries of the schedule
    expect(dead!.attempts.every((attempt) => attempt.responseStatus === 503)).toBe(true);
    const deadJob = await eventually(async () => {
      const [row] = await deps.db.select().from(deadJobs).where(eq(deadJobs.jobId, dead!.id));
      return row;
    });
    expect(deadJob).toMatchObject({
      queue: 'webhooks',
      jobName: 'deliver',
      data: { deliveryId: dead!.id },
    });

    status = 200;
    const retried = await http
      .post(`/webhooks/${s.webhookId}/deliveries/${dead!.id}/retry`)
      .set('Authorization', s.business.owner.auth);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: dead!.id, eventId: messageId, status: 'pending' });
    const [succeeded] = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'succeeded' && rows;
    });
    expect(succeeded!.attempts).toHaveLength(5);
    expect(s.receiver.received.map((entry) => entry.id)).toEqual(Array(5).fill(messageId));
    expect(s.receiver.received.at(-1)!.verified).toBe(true);

    const again = await http
      .post(`/webhooks/${s.webhookId}/deliveries/${dead!.id}/retry`)
      .set('Authorization', s.business.owner.auth);
    expect(again.status).toBe(422);
    expect(again.body.code).toBe('UNPROCESSABLE');
  });

  it('a failed manual retry makes one attempt and leaves the delivery dead', async () => {
    const s = await setup(() => 500);
    await emit(s.business, 'sale.created', { id: newId() });
    const [dead] = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'dead' && rows;
    });
    const retried = await http
      .post(`/webhooks/${s.webhookId}/deliveries/${dead!.id}/retry`)
      .set('Authorization', s.business.owner.auth);
    expect(retried.status).toBe(202);
    const [after] = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'dead' && rows[0].attempts.length === 5 && rows;
    });
    expect(after!.status).toBe('dead');
    expect(s.receiver.received).toHaveLength(5);
  });

  it('disables an endpoint that answers 410 Gone and emails the owner; it gets no new deliveries', async () => {
    const s = await setup(() => 410);
    await emit(s.business, 'sale.created', { id: newId() });
    const [delivery] = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'dead' && rows;
    });
    expect(delivery!.attempts).toHaveLength(1);
    const webhook = await http
      .get(`/webhooks/${s.webhookId}`)
      .set('Authorization', s.business.owner.auth);
    expect(webhook.body).toMatchObject({
      enabled: false,
      disabledReason: 'The endpoint answered 410 Gone',
    });
    const emails = await deps.db.select().from(outbox).where(eq(outbox.businessId, s.business.id));
    const disabledEmail = emails.find((row) => row.type === 'webhook-disabled');
    expect(disabledEmail).toMatchObject({
      kind: 'email',
      payload: {
        to: s.business.owner.email,
        businessName: s.business.name,
        url: s.receiver.url,
        reason: 'The endpoint answered 410 Gone',
      },
    });

    await emit(s.business, 'sale.created', { id: newId() });
    await eventually(async () => {
      const pending = await deps.db
        .select()
        .from(outbox)
        .where(eq(outbox.businessId, s.business.id));
      return pending.every((row) => row.dispatchedAt !== null);
    });
    expect(await deliveries(s)).toHaveLength(1);

    const enabled = await http
      .patch(`/webhooks/${s.webhookId}`)
      .set('Authorization', s.business.owner.auth)
      .send({ enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });
  });

  it('disables an endpoint failing for five days', async () => {
    const s = await setup(() => 500);
    await deps.db
      .update(webhookEndpoints)
      .set({ failingSince: new Date(Date.now() - 5 * 24 * 3600 * 1000 - 1000) })
      .where(eq(webhookEndpoints.id, s.webhookId));
    await emit(s.business, 'sale.created', { id: newId() });
    const [delivery] = await eventually(async () => {
      const rows = await deliveries(s);
      return rows[0]?.status === 'dead' && rows;
    });
    expect(delivery!.attempts).toHaveLength(1);
    const [endpoint] = await deps.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, s.webhookId));
    expect(endpoint).toMatchObject({
      enabled: false,
      disabledReason: 'Every delivery failed for 5 days',
    });
    const emails = await deps.db.select().from(outbox).where(eq(outbox.businessId, s.business.id));
    expect(emails.filter((row) => row.type === 'webhook-disabled')).toHaveLength(1);
  });

  it('a success resets the failure clock', async () => {
    const s = await setup((index) => (index === 0 ? 500 : 200));
    await emit(s.business, 'sale.created', { id: newId() });
    await eventually(async () => (await deliveries(s))[0]?.status === 'succeeded');
    const [endpoint] = await deps.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, s.webhookId));
    expect(endpoint!.failingSince).toBeNull();
  });

  it('fans one event out to every subscribed endpoint ("*" included), one delivery each', async () => {
    const s = await setup();
    const all = await startReceiver();
    receivers.push(all);
    const star = await http
      .post('/webhooks')
      .set('Authorization', s.business.owner.auth)
      .send({ url: all.url, events: ['*'] });
    all.secret = star.body.secret;
    const other = await startReceiver();
    receivers.push(other);
    await http
      .post('/webhooks')
      .set('Authorization', s.business.owner.auth)
      .send({ url: other.url, events: ['sale.voided'] });
    const messageId = await emit(s.business, 'sale.created', { id: newId() });
    await eventually(() => s.receiver.received.length === 1 && all.received.length === 1);
    expect(all.received[0]).toMatchObject({ id: messageId, verified: true });
    expect(s.receiver.received[0]).toMatchObject({ id: messageId, verified: true });
    const rows = await deps.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.messageId, messageId));
    expect(rows).toHaveLength(2);
    expect(other.received).toHaveLength(0);
  });

  it('POST /webhooks/{id}/test sends webhook.test to that endpoint only', async () => {
    const s = await setup();
    const response = await http
      .post(`/webhooks/${s.webhookId}/test`)
      .set('Authorization', s.business.owner.auth);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      eventType: 'webhook.test',
      status: 'pending',
      attempts: [],
    });
    const [entry] = await eventually(() => s.receiver.received.length === 1 && s.receiver.received);
    expect(entry).toMatchObject({ id: response.body.eventId, verified: true });
    expect(JSON.parse(entry!.body)).toMatchObject({
      type: 'webhook.test',
      data: { webhookId: s.webhookId },
    });
  });

  it('a rotated secret signs the next delivery; the old one no longer verifies', async () => {
    const s = await setup();
    const rotated = await http
      .post(`/webhooks/${s.webhookId}/rotate-secret`)
      .set('Authorization', s.business.owner.auth);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(s.secret);
    s.receiver.secret = rotated.body.secret;
    await emit(s.business, 'sale.created', { id: newId() });
    const [entry] = await eventually(() => s.receiver.received.length === 1 && s.receiver.received);
    expect(entry!.verified).toBe(true);
    expect(verifies(s.secret, entry!, entry!.body)).toBe(false);
  });
});
