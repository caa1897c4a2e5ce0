import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { sleep, useJobs } from '../helpers/jobs.js';
import { startReceiver, verifies, type Receiver } from '../helpers/receiver.js';

import { startSmtpSink } from '../helpers/smtp.js';
import { awaitEvents, eventsOf, mailsTo, uniqueEmail } from '../helpers/flows.js';
import { outboxRowsOf } from '../helpers/outbox.js';

// API + worker "process" + SMTP server + webhook receivers, all real and on 127.0.0.1.
const smtp = await startSmtpSink();
const receivers: Receiver[] = [];
afterAll(async () => {
  await smtp.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
});
const { http, deps } = createTestApp({ env: { SMTP_URL: smtp.url } });
const jobs = useJobs({ env: { SMTP_URL: smtp.url } });

async function shop(): Promise<TestBusiness> {
  const business = await createBusiness(deps, { name: 'Duka Integrations' });
  jobs.businessIds.add(business.id);
  return business;
}

async function endpoint(business: TestBusiness, events: string[]): Promise<Receiver> {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const created = await http
    .post('/webhooks')
    .set('Authorization', business.owner.auth)
    .send({ url: receiver.url, events, description: `flows ${events.join(',')}` });
  expect(created.status).toBe(201);
  expect(created.body.secret).toMatch(/^whsec_/);
  receiver.secret = created.body.secret;
  return receiver;
}

async function product(business: TestBusiness, stock: number, threshold: number) {
  const created = await http
    .post('/products')
    .set('Authorization', business.manager.auth)
    .send({
      name: 'Maziwa 500ml',
      sku: `MZ-${randomUUID().slice(0, 8)}`,
      price: 6_000,
      taxRate: 1600,
      lowStockThreshold: threshold,
    });
  expect(created.status).toBe(201);
  const received = await http
    .post('/inventory/adjustments')
    .set('Authorization', business.manager.auth)
    .set('Idempotency-Key', randomUUID())
    .send({ items: [{ productId: created.body.id, type: 'receive', quantity: stock }] });
  expect(received.status).toBe(201);
  return created.body as { id: string; name: string; sku: string; price: number };
}

function saleOf(productId: string, quantity: number, price: number) {
  return {
    clientRequestId: randomUUID(),
    occurredAt: new Date(Date.now() - 30_000).toISOString(),
    lines: [{ productId, quantity }],
    payments: [{ method: 'cash', amount: Math.round(quantity * price) + 1_000 }],
  };
}

describe('sales reach integrators as signed webhooks and customers as emails', () => {
  it('sale (and its replay) → one sale.created; void → sale.voided; crossing the threshold → inventory.low_stock; receipt email', async () => {
    const business = await shop();
    const all = await endpoint(business, ['*']);
    const salesOnly = await endpoint(business, ['sale.created']);
    const item = await product(business, 10, 5);

    // A sale that stays above the threshold, sent twice (a till retrying a lost response).
    const body = saleOf(item.id, 2, item.price);
    const first = await http.post('/sales').set('Authorization', business.cashier.auth).send(body);
    expect(first.status).toBe(201);
    const replay = await http.post('/sales').set('Authorization', business.cashier.auth).send(body);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);

    const [created] = await awaitEvents(all, 'sale.created');
    expect(created!.entry.verified).toBe(true);
    expect(created!.event.data).toEqual(first.body);
    expect(Date.parse(created!.event.timestamp)).not.toBeNaN();
    // A tampered body fails verification with the same headers.
    expect(verifies(all.secret!, created!.entry, created!.entry.body.replace('"2', '"3'))).toBe(
      false,
    );
    const [onlySale] = await awaitEvents(salesOnly, 'sale.created');
    expect(onlySale!.entry.id).toBe(created!.entry.id);
    expect(onlySale!.entry.verified).toBe(true);

    // Void (twice: the second answers the same sale) → one sale.voided.
    const voided = await http
      .post(`/sales/${first.body.id}/void`)
      .set('Authorization', business.manager.auth)
      .send({ reason: 'wrong item' });
    expect(voided.status).toBe(200);
    const voidedAgain = await http
      .post(`/sales/${first.body.id}/void`)
      .set('Authorization', business.manager.auth)
      .send({ reason: 'wrong item' });
    expect(voidedAgain.body).toEqual(voided.body);
    const [voidEvent] = await awaitEvents(all, 'sale.voided');
    expect(voidEvent!.entry.verified).toBe(true);
    expect(voidEvent!.event.data).toEqual(voided.body);
    expect(voidEvent!.event.data).toMatchObject({ status: 'voided', voidReason: 'wrong item' });

    // Stock is back at 10; a sale of 6 takes it to 4, across the threshold of 5.
    const crossing = await http
      .post('/sales')
      .set('Authorization', business.cashier.auth)
      .send(saleOf(item.id, 6, item.price));
    expect(crossing.status).toBe(201);
    const [lowStock] = await awaitEvents(all, 'inventory.low_stock');
    expect(lowStock!.entry.verified).toBe(true);
    expect(lowStock!.event.data).toEqual({
      productId: item.id,
      locationId: expect.any(String),
      name: item.name,
      sku: item.sku,
      quantity: 4,
      stockQuantity: 4,
      lowStockThreshold: 5,
    });
    const low = await http.get('/inventory/low-stock').set('Authorization', business.manager.auth);
    expect(low.body.data.map((p: { id: string }) => p.id)).toEqual([item.id]);

    // The receipt of the second sale, emailed to the customer.
    const customer = uniqueEmail('customer');
    const queued = await http
      .post(`/sales/${crossing.body.id}/receipt/email`)
      .set('Authorization', business.cashier.auth)
      .send({ email: customer });
    expect(queued.status).toBe(202);
    const [receipt] = await mailsTo(smtp, customer);
    expect(receipt!.subject).toBe(
      `Your receipt from Duka Integrations (#${String(crossing.body.number)})`,
    );
    expect(receipt!.text).toContain('6 × Maziwa 500ml @ KES 60.00 = KES 360.00');
    expect(receipt!.text).toContain('Total: KES 360.00');
    expect(receipt!.text).toContain('Change: KES 10.00');

    // Exactly once each, everywhere; nothing else arrived at the sales-only endpoint.
    await awaitEvents(all, 'sale.created', 2);
    await awaitEvents(salesOnly, 'sale.created', 2);
    await sleep(300); // a late duplicate would land now
    expect([...all.counts().values()].every((count) => count === 1)).toBe(true);
    expect(eventsOf(all, 'sale.created').map(({ event }) => event.data.id)).toEqual([
      first.body.id,
      crossing.body.id,
    ]);
    expect(eventsOf(all, 'sale.voided')).toHaveLength(1);
    expect(eventsOf(all, 'inventory.low_stock')).toHaveLength(1);
    expect(eventsOf(all, 'product.created')).toHaveLength(1);
    expect(
      salesOnly.received.map((entry) => (JSON.parse(entry.body) as { type: string }).type),
    ).toEqual(['sale.created', 'sale.created']);
    expect(all.received.every((entry) => entry.verified)).toBe(true);
    expect(salesOnly.received.every((entry) => entry.verified)).toBe(true);
    const rows = await outboxRowsOf(deps, business.id);
    expect(rows.filter((row) => row.type === 'sale.created')).toHaveLength(2);
    expect(smtp.messages.filter((m) => m.to.includes(customer))).toHaveLength(1);

    // The delivery log tells the owner the same story.
    const webhooks = await http.get('/webhooks').set('Authorization', business.owner.auth);
    const allId = webhooks.body.data.find((w: { url: string }) => w.url === all.url).id;
    const deliveries = await http
      .get(`/webhooks/${allId}/deliveries`)
      .set('Authorization', business.owner.auth);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.data).toHaveLength(all.received.length);
    expect(deliveries.body.data.every((d: { status: string }) => d.status === 'succeeded')).toBe(
      true,
    );
  });

  it('a batch sync and its replay: one sale.created per new sale, none for duplicates', async () => {
    const business = await shop();
    const receiver = await endpoint(business, ['sale.created', 'inventory.low_stock']);
    const item = await product(business, 3, 1);
    const batch = { sales: [saleOf(item.id, 1, item.price), saleOf(item.id, 1, item.price)] };
    const first = await http
      .post('/sales/sync')
      .set('Authorization', business.cashier.auth)
      .send(batch);
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: { status: string }) => r.status)).toEqual([
      'created',
      'created',
    ]);
    const replay = await http
      .post('/sales/sync')
      .set('Authorization', business.cashier.auth)
      .send(batch);
    expect(replay.body.results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate',
      'duplicate',
    ]);
    const events = await awaitEvents(receiver, 'sale.created', 2);
    const [low] = await awaitEvents(receiver, 'inventory.low_stock');
    expect(low!.event.data).toMatchObject({ productId: item.id, stockQuantity: 1 });
    await sleep(300);
    expect(eventsOf(receiver, 'sale.created').map(({ event }) => event.data)).toEqual(
      first.body.results.map((r: { sale: unknown }) => r.sale),
    );
    expect(events.every(({ entry }) => entry.verified)).toBe(true);
    expect(receiver.received).toHaveLength(3);
  });

  it('catalog and inventory changes reach integrators; an endpoint answering 410 is disabled and the owner emailed', async () => {
    const business = await shop();
    const catalog = await endpoint(business, [
      'product.created',
      'product.updated',
      'product.archived',
      'inventory.low_stock',
    ]);
    const gone = await startReceiver(() => 410);
    receivers.push(gone);
    const goneEndpoint = await http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({ url: gone.url, events: ['product.created'] });
    expect(goneEndpoint.status).toBe(201);
    gone.secret = goneEndpoint.body.secret;

    const item = await product(business, 8, 3);
    const updated = await http
      .patch(`/products/${item.id}`)
      .set('Authorization', business.manager.auth)
      .send({ price: 6_500 });
    expect(updated.status).toBe(200);
    // A stock count down to 2 crosses the threshold of 3.
    const counted = await http
      .post('/inventory/adjustments')
      .set('Authorization', business.manager.auth)
      .set('Idempotency-Key', randomUUID())
      .send({ items: [{ productId: item.id, type: 'count', quantity: 2 }] });
    expect(counted.status).toBe(201);
    const archived = await http
      .delete(`/products/${item.id}`)
      .set('Authorization', business.manager.auth);
    expect(archived.status).toBe(204);

    const [createdEvent] = await awaitEvents(catalog, 'product.created');
    expect(createdEvent!.event.data).toMatchObject({ id: item.id, name: item.name, version: 1 });
    const updates = await awaitEvents(catalog, 'product.updated');
    expect(updates.map(({ event }) => event.data.price)).toContain(6_500);
    const [archivedEvent] = await awaitEvents(catalog, 'product.archived');
    expect(archivedEvent!.event.data).toMatchObject({ id: item.id, archived: true });
    const [low] = await awaitEvents(catalog, 'inventory.low_stock');
    expect(low!.event.data).toEqual({
      productId: item.id,
      locationId: expect.any(String),
      name: item.name,
      sku: item.sku,
      quantity: 2,
      stockQuantity: 2,
      lowStockThreshold: 3,
    });
    expect(catalog.received.every((entry) => entry.verified)).toBe(true);

    // The 410 endpoint got its one delivery (verified), then was disabled; the owner was told.
    const [mail] = await mailsTo(smtp, business.owner.email);
    expect(mail!.subject).toBe('Duka Integrations: a webhook endpoint was disabled');
    expect(mail!.text).toContain(gone.url);
    expect(mail!.text).toContain('410');
    expect(gone.received).toHaveLength(1);
    expect(gone.received[0]!.verified).toBe(true);
    const disabled = await http
      .get(`/webhooks/${goneEndpoint.body.id as string}`)
      .set('Authorization', business.owner.auth);
    expect(disabled.body).toMatchObject({ enabled: false });
  });
});
