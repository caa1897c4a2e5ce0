import { createHash, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { signedFileUrl } from '../../src/storage/storage-url.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectRouteGuards } from '../helpers/guards.js';
import { postProduct } from '../helpers/catalog.js';
import { outboxRowsOf } from '../helpers/outbox.js';

const storageDir = mkdtempSync(path.join(os.tmpdir(), 'bapi-storage-'));
const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'bapi-spool-'));
const { http, deps, config, app } = createTestApp({
  env: { STORAGE_LOCAL_DIR: storageDir, UPLOAD_TMP_DIR: spoolDir },
});

/** A real 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
/** The leading bytes of a JFIF JPEG and a lossy WebP, enough for magic-byte detection. */
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]),
  Buffer.alloc(200, 7),
]);
const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([0x24, 0, 0, 0]),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(40, 1),
]);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));

function upload(productId: string, auth: string, bytes: Buffer, filename: string, type: string) {
  return http
    .post(`/products/${productId}/image`)
    .set('Authorization', auth)
    .attach('file', bytes, { filename, contentType: type });
}

describe('product image upload', () => {
  it('a PNG named .jpg is stored under its content hash and served; same bytes keep the URL', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const response = await upload(product.id, shop.manager.auth, PNG, 'photo.jpg', 'image/jpeg');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const key = `images/${sha256(PNG)}.png`;
    expect(response.body).toMatchObject({
      id: product.id,
      imageUrl: `${config.publicUrl}/files/${key}`,
      version: 2,
    });
    expect(readFileSync(path.join(storageDir, key))).toEqual(PNG);
    const events = await outboxRowsOf(deps, shop.id, { kind: 'event', types: ['product.updated'] });
    expect(events.map((event) => event.payload)).toEqual([response.body]);

    const served = await http.get(`/files/${key}`).buffer(true);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.headers['cache-control']).toContain('immutable');
    expect(Buffer.from(served.body as Buffer)).toEqual(PNG);

    const again = await upload(product.id, shop.owner.auth, PNG, 'other-name.png', 'image/png');
    expect(again.body.imageUrl).toBe(response.body.imageUrl);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('accepts JPEG and WebP by their bytes', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const jpeg = await upload(
      product.id,
      shop.owner.auth,
      JPEG,
      'a.bin',
      'application/octet-stream',
    );
    expect(jpeg.status).toBe(200);
    expect(jpeg.body.imageUrl).toMatch(new RegExp(`/files/images/${sha256(JPEG)}\\.jpg$`));
    const webp = await upload(product.id, shop.owner.auth, WEBP, 'b.png', 'image/png');
    expect(webp.status).toBe(200);
    expect(webp.body.imageUrl).toMatch(/\.webp$/);
  });

  it('a text file named .png → 415 and nothing stored', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const before = filesUnder(storageDir);
    const text = Buffer.from('definitely not an image\n'.repeat(400));
    const response = await upload(product.id, shop.owner.auth, text, 'evil.png', 'image/png');
    expect(response.status).toBe(415);
    expect(response.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(filesUnder(storageDir)).toEqual(before);
    expect(readdirSync(spoolDir)).toEqual([]);
    const current = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(current.body).toMatchObject({ version: 1 });
    expect(current.body).not.toHaveProperty('imageUrl');
  });

  it('a 6 MB file → 413 and nothing left on disk', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const before = filesUnder(storageDir);
    const big = Buffer.concat([PNG, Buffer.alloc(6 * 1024 * 1024)]);
    const response = await upload(product.id, shop.owner.auth, big, 'big.png', 'image/png');
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(filesUnder(storageDir)).toEqual(before);
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(existsSync(path.join(storageDir, `images/${sha256(big)}.png`))).toBe(false);
    const current = await http.get(`/products/${product.id}`).set('Authorization', shop.owner.auth);
    expect(current.body.version).toBe(1);
  });

  it('without a Content-Length, a 6 MB file is cut off while streaming: 413, no partial file', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const before = filesUnder(storageDir);
    const callback = app.callback();
    const server = createServer((req, res) => {
      void callback(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const boundary = `----bapi${randomUUID()}`;
    try {
      const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: `/products/${product.id}/image`,
            headers: {
              Authorization: shop.owner.auth,
              'Content-Type': `multipart/form-data; boundary=${boundary}`,
              'Transfer-Encoding': 'chunked',
            },
          },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on('error', reject);
        request.write(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
        );
        request.write(PNG);
        const chunk = Buffer.alloc(256 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 6 * 1024 * 1024) {
            sent += chunk.length;
            if (!request.write(chunk)) {
              request.once('drain', pump);
              return;
            }
          }
          request.end(`\r\n--${boundary}--\r\n`);
        };
        pump();
      });
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(filesUnder(storageDir)).toEqual(before);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('a file for another business product → 404, cashier → 403, and nothing is read', async () => {
    const shop = await createBusiness(deps);
    const other = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const before = filesUnder(storageDir);
    const foreign = await upload(product.id, other.owner.auth, JPEG, 'x.jpg', 'image/jpeg');
    expect(foreign.status).toBe(404);
    const cashier = await upload(product.id, shop.cashier.auth, JPEG, 'x.jpg', 'image/jpeg');
    expect(cashier.status).toBe(403);
    expect(filesUnder(storageDir)).toEqual(before);
    await expectRouteGuards(
      http,
      { owner: shop, other },
      {
        method: 'post',
        path: `/products/${product.id}/image`,
        allowed: ['owner', 'manager'],
        namesResource: true,
      },
    );
  });

  it('no multipart → 415; no "file" field → 400; empty file → 400', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const json = await http
      .post(`/products/${product.id}/image`)
      .set('Authorization', shop.owner.auth)
      .send({ file: 'abc' });
    expect(json.status).toBe(415);
    const noFile = await http
      .post(`/products/${product.id}/image`)
      .set('Authorization', shop.owner.auth)
      .field('note', 'hello');
    expect(noFile.status).toBe(400);
    expect(noFile.body.errors).toEqual([expect.objectContaining({ path: 'file' })]);
    const empty = await upload(product.id, shop.owner.auth, Buffer.alloc(0), 'e.png', 'image/png');
    expect(empty.status).toBe(400);
  });
});

describe('GET /files', () => {
  it('404 for unknown or unsafe keys; private folders need a valid, unexpired signature', async () => {
    expect((await http.get('/files/images/nope.png')).status).toBe(404);
    expect((await http.get('/files/images/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
    expect((await http.get('/files/IMAGES/x.png')).status).toBe(404);

    const key = 'exports/report-1.csv';
    await deps.storage.put(key, Buffer.from('a,b\n1,2\n'), { contentType: 'text/csv' });
    expect((await http.get(`/files/${key}`)).status).toBe(403);
    const url = new URL(signedFileUrl(config, key, new Date(Date.now() + 60_000)));
    const ok = await http.get(`${url.pathname}${url.search}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('a,b\n1,2\n');
    expect(ok.headers['content-disposition']).toContain('report-1.csv');
    const expired = new URL(signedFileUrl(config, key, new Date(Date.now() - 1000)));
    expect((await http.get(`${expired.pathname}${expired.search}`)).status).toBe(403);
    const tampered = `${url.pathname.replace('report-1', 'report-2')}${url.search}`;
    await deps.storage.put('exports/report-2.csv', Buffer.from('x'), { contentType: 'text/csv' });
    expect((await http.get(tampered)).status).toBe(403);
    await deps.storage.delete(key);
    expect((await http.get(`${url.pathname}${url.search}`)).status).toBe(404);
  });
});
