import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';

const off = createTestApp();
const on = createTestApp({
  env: { BULL_BOARD_USER: 'ops', BULL_BOARD_PASSWORD: 'correct-horse-queue' },
});
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('queue dashboard at /admin/queues', () => {
  it('is absent (404) when no credentials are configured', async () => {
    expect((await off.http.get('/admin/queues')).status).toBe(404);
    expect((await off.http.get('/admin/queues/api/queues')).status).toBe(404);
  });

  it('asks for basic auth and refuses wrong credentials', async () => {
    for (const auth of [
      undefined,
      basic('ops', 'wrong'),
      basic('admin', 'correct-horse-queue'),
      'Bearer x',
      'Basic !!!',
    ]) {
      let request = on.http.get('/admin/queues/api/queues');
      if (auth) request = request.set('Authorization', auth);
      const response = await request;
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="queues"/);
      expect(response.body.code).toBe('UNAUTHENTICATED');
    }
  });

  it('serves the dashboard and its API with the right credentials', async () => {
    const auth = basic('ops', 'correct-horse-queue');
    const page = await on.http.get('/admin/queues').set('Authorization', auth);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const api = await on.http.get('/admin/queues/api/queues').set('Authorization', auth);
    expect(api.status).toBe(200);
    const names = (api.body.queues as { name: string }[]).map((queue) => queue.name).sort();
    expect(names).toEqual(expect.arrayContaining(['digests', 'email', 'maintenance', 'webhooks']));
  });

  it('exposes outbox lag and queue depths on /metrics', async () => {
    const metrics = await on.http.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/^outbox_pending_messages \d+/m);
    expect(metrics.text).toMatch(/^outbox_oldest_pending_age_seconds [\d.e+-]+/m);
    expect(metrics.text).toMatch(/^queue_jobs\{queue="webhooks",state="waiting"\} \d+/m);
  });
});
