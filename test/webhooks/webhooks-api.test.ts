import os from 'node:os';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { webhookEndpoints } from '../../src/db/schema/index.js';
import { decryptSecret } from '../../src/modules/webhooks/webhook-secret.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';

const { http, deps } = createTestApp();
// The production rule for targets: no private networks.
const strict = createTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });

const URL_OK = 'http://127.0.0.1:9/hook';

describe('webhook endpoints API', () => {
  it('creates an endpoint with a whsec_ secret shown once and stored only encrypted', async () => {
    const business = await createBusiness(deps);
    const response = await http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({
        url: URL_OK,
        events: ['sale.created', 'sale.voided', 'sale.created'],
        description: 'ERP',
      });
    expect(response.status).toBe(201);
    expect(response.headers.location).toBe(`/webhooks/${response.body.id}`);
    expect(response.body).toMatchObject({
      url: URL_OK,
      events: ['sale.created', 'sale.voided'],
      description: 'ERP',
      enabled: true,
      disabledAt: null,
    });
    const secret: string = response.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);

    const [row] = await deps.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, response.body.id));
    expect(row!.businessId).toBe(business.id);
    expect(row!.secretCiphertext).not.toContain(secret.slice(6));
    expect(decryptSecret(row!.secretCiphertext, deps.config.webhooks.secretKey)).toBe(secret);

    const fetched = await http
      .get(`/webhooks/${response.body.id}`)
      .set('Authorization', business.owner.auth);
    expect(fetched.status).toBe(200);
    expect(fetched.body.secret).toBeUndefined();
    expect(fetched.body).toEqual({ ...response.body, secret: undefined });
  });

  it('lists, updates, rotates and deletes', async () => {
    const business = await createBusiness(deps);
    const auth = business.owner.auth;
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const created = await http
        .post('/webhooks')
        .set('Authorization', auth)
        .send({ url: `${URL_OK}${index}`, events: ['*'] });
      ids.push(created.body.id);
    }
    const first = await http.get('/webhooks?limit=2').set('Authorization', auth);
    expect(first.status).toBe(200);
    expect(first.body.data.map((hook: { id: string }) => hook.id)).toEqual(ids.slice(0, 2));
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await http
      .get(`/webhooks?limit=2&cursor=${first.body.nextCursor}`)
      .set('Authorization', auth);
    expect(second.body.data.map((hook: { id: string }) => hook.id)).toEqual(ids.slice(2));
    expect(second.body.nextCursor).toBeNull();
    expect(second.body.data[0].secret).toBeUndefined();
    const badCursor = await http.get('/webhooks?cursor=not-a-cursor').set('Authorization', auth);
    expect(badCursor.status).toBe(400);

    const patched = await http
      .patch(`/webhooks/${ids[0]}`)
      .set('Authorization', auth)
      .send({ events: ['product.updated'], description: null, enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      events: ['product.updated'],
      description: null,
      enabled: false,
      disabledReason: 'disabled by the owner',
    });

    const [before] = await deps.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, ids[1]!));
    const rotated = await http.post(`/webhooks/${ids[1]}/rotate-secret`).set('Authorization', auth);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    const [after] = await deps.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, ids[1]!));
    expect(decryptSecret(after!.secretCiphertext, deps.config.webhooks.secretKey)).toBe(
      rotated.body.secret,
    );
    expect(after!.secretCiphertext).not.toBe(before!.secretCiphertext);

    expect((await http.delete(`/webhooks/${ids[2]}`).set('Authorization', auth)).status).toBe(204);
    expect((await http.get(`/webhooks/${ids[2]}`).set('Authorization', auth)).status).toBe(404);
    expect((await http.delete(`/webhooks/${ids[2]}`).set('Authorization', auth)).status).toBe(404);
  });

  it('rejects malformed bodies with 400 and every problem listed', async () => {
    const business = await createBusiness(deps);
    const cases: unknown[] = [
      { url: URL_OK, events: ['sale.exploded'] },
      { url: URL_OK, events: ['*', 'sale.created'] },
      { url: URL_OK, events: [] },
      { url: URL_OK },
      { url: 'not a url', events: ['*'] },
      { url: URL_OK, events: ['*'], secret: 'whsec_mine' },
      { url: URL_OK, events: ['*'], description: 'x'.repeat(501) },
      { url: `http://example.com/${'a'.repeat(2100)}`, events: ['*'] },
      { url: 42, events: 'sale.created' },
    ];
    for (const body of cases) {
      const response = await http
        .post('/webhooks')
        .set('Authorization', business.owner.auth)
        .send(body as object);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
    const created = await http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({ url: URL_OK, events: ['*'] });
    const empty = await http
      .patch(`/webhooks/${created.body.id}`)
      .set('Authorization', business.owner.auth)
      .send({});
    expect(empty.status).toBe(400);
    const rows = await deps.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.businessId, business.id));
    expect(rows).toHaveLength(1);
  });

  it('refuses URLs that point inside the network (SSRF), at create and on update', async () => {
    const business = await createBusiness(strict.deps);
    const refused = [
      'http://127.0.0.1/hook',
      'http://localhost/hook',
      'http://foo.localhost/hook',
      'http://[::1]/hook',
      'http://0.0.0.0/hook',
      'http://[::]/hook',
      'http://10.0.0.1/hook',
      'http://172.16.0.1/hook',
      'http://172.31.255.254/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::ffff:a9fe:a9fe]/hook',
      'http://[fd00::1]/hook',
      'http://[fe80::1]/hook',
      'http://[64:ff9b::7f00:1]/hook',
      'http://2130706433/hook',
      'http://0177.0.0.1/hook',
      'http://0x7f000001/hook',
      'http://127.1/hook',
      'http://224.0.0.1/hook',
      'http://255.255.255.255/hook',
      'http://user:pass@example.com/hook',
      'file:///etc/passwd',
      'gopher://example.com/',
      `http://${os.hostname()}/hook`, // a name resolving to this machine
      'http://no-such-host.invalid/hook',
    ];
    const notAboutTheNetwork = new Set([
      'http://user:pass@example.com/hook',
      'file:///etc/passwd',
      'gopher://example.com/',
      'http://no-such-host.invalid/hook',
    ]);
    for (const url of refused) {
      const response = await strict.http
        .post('/webhooks')
        .set('Authorization', business.owner.auth)
        .send({ url, events: ['*'] });
      expect(response.status, url).toBe(422);
      expect(response.body.code).toBe('UNPROCESSABLE');
      expect(response.body.errors[0].path).toBe('url');
      // The developer learns which setting lets a receiver on their own machine in.
      if (!notAboutTheNetwork.has(url)) {
        expect(response.body.detail, url).toContain('WEBHOOK_ALLOW_PRIVATE_NETWORKS');
      }
    }
    const rows = await strict.deps.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.businessId, business.id));
    expect(rows).toHaveLength(0);

    // A public address is fine; moving it inside the network is not.
    const ok = await strict.http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({ url: 'http://93.184.215.14/hook', events: ['*'] });
    expect(ok.status).toBe(201);
    const moved = await strict.http
      .patch(`/webhooks/${ok.body.id}`)
      .set('Authorization', business.owner.auth)
      .send({ url: 'http://169.254.169.254/' });
    expect(moved.status).toBe(422);
  });

  it('refuses writes while the subscription is expired, still lists', async () => {
    const business = await createBusiness(deps, {
      currentPeriodEnd: new Date(Date.now() - 60 * 86_400_000),
    });
    const created = await http
      .post('/webhooks')
      .set('Authorization', business.owner.auth)
      .send({ url: URL_OK, events: ['*'] });
    expect(created.status).toBe(402);
    expect(created.body.code).toBe('SUBSCRIPTION_INACTIVE');
    expect((await http.get('/webhooks').set('Authorization', business.owner.auth)).status).toBe(
      200,
    );
  });

  it('guards every route: 401 without a token, 403 for managers and cashiers, 404 for another business', async () => {
    const owner = await createBusiness(deps);
    const other = await createBusiness(deps);
    const created = await http
      .post('/webhooks')
      .set('Authorization', owner.owner.auth)
      .send({ url: URL_OK, events: ['*'] });
    const id = created.body.id as string;
    const test = await http.post(`/webhooks/${id}/test`).set('Authorization', owner.owner.auth);
    expect(test.status).toBe(202);
    const deliveryId = test.body.id as string;
    const businesses = { owner, other };
    const routes = [
      {
        method: 'post',
        path: '/webhooks',
        body: { url: URL_OK, events: ['*'] },
        namesResource: false,
      },
      { method: 'get', path: '/webhooks', namesResource: false },
      { method: 'get', path: `/webhooks/${id}`, namesResource: true },
      { method: 'patch', path: `/webhooks/${id}`, body: { description: 'x' }, namesResource: true },
      { method: 'post', path: `/webhooks/${id}/rotate-secret`, namesResource: true },
      { method: 'post', path: `/webhooks/${id}/test`, namesResource: true },
      { method: 'get', path: `/webhooks/${id}/deliveries`, namesResource: true },
      {
        method: 'post',
        path: `/webhooks/${id}/deliveries/${deliveryId}/retry`,
        namesResource: true,
      },
      { method: 'delete', path: `/webhooks/${id}`, namesResource: true },
    ] as const;
    for (const route of routes) {
      await expectRouteGuards(http, businesses, { ...route, allowed: ['owner'] });
    }
    // Another endpoint's delivery id under this endpoint is not found either.
    const second = await http
      .post('/webhooks')
      .set('Authorization', owner.owner.auth)
      .send({ url: URL_OK, events: ['*'] });
    const crossed = await http
      .post(`/webhooks/${second.body.id}/deliveries/${deliveryId}/retry`)
      .set('Authorization', owner.owner.auth);
    expect(crossed.status).toBe(404);
  });

  it('lists deliveries newest first with a cursor', async () => {
    const business = await createBusiness(deps);
    const auth = business.owner.auth;
    const created = await http
      .post('/webhooks')
      .set('Authorization', auth)
      .send({ url: URL_OK, events: ['*'] });
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      ids.push(
        (await http.post(`/webhooks/${created.body.id}/test`).set('Authorization', auth)).body.id,
      );
    }
    const page = await http
      .get(`/webhooks/${created.body.id}/deliveries?limit=2`)
      .set('Authorization', auth);
    expect(page.body.data.map((delivery: { id: string }) => delivery.id)).toEqual([ids[2], ids[1]]);
    const next = await http
      .get(`/webhooks/${created.body.id}/deliveries?limit=2&cursor=${page.body.nextCursor}`)
      .set('Authorization', auth);
    expect(next.body).toEqual({
      data: [
        expect.objectContaining({
          id: ids[0],
          eventType: 'webhook.test',
          status: 'pending',
          attempts: [],
        }),
      ],
      nextCursor: null,
    });
  });
});
