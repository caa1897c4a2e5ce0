import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { freePort } from '../helpers/process.js';
import { postProduct } from '../helpers/catalog.js';

// A real S3-compatible server (s3rver) on a local port: the driver speaks real S3 HTTP.
const bucket = 'bapi-test';
const s3Dir = mkdtempSync(path.join(os.tmpdir(), 'bapi-s3rver-'));
const port = await freePort();
const server = new S3rver({
  port,
  address: '127.0.0.1',
  silent: true,
  directory: s3Dir,
  configureBuckets: [{ name: bucket }],
});
await server.run();
const endpoint = `http://127.0.0.1:${port}`;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const { http, deps, config } = createTestApp({
  env: {
    STORAGE_DRIVER: 's3',
    S3_BUCKET: bucket,
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  },
});
const client = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

afterAll(async () => {
  client.destroy();
  await deps.storage.close?.();
  await server.close();
  rmSync(s3Dir, { recursive: true, force: true });
});

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

async function readObject(key: string) {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return {
    contentType: object.ContentType,
    bytes: Buffer.from(await object.Body!.transformToByteArray()),
  };
}

describe('S3 storage driver (against s3rver)', () => {
  it('is the configured storage', () => {
    expect(deps.storage.driver).toBe('s3');
  });

  it('an uploaded image lands in the bucket and the app serves it from there', async () => {
    const shop = await createBusiness(deps);
    const product = await postProduct(http, shop.owner);
    const response = await http
      .post(`/products/${product.id}/image`)
      .set('Authorization', shop.owner.auth)
      .attach('file', PNG, { filename: 'p.jpg', contentType: 'image/jpeg' });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const key = new URL(response.body.imageUrl as string).pathname.replace(/^\/files\//, '');
    expect(response.body.imageUrl).toBe(`${config.publicUrl}/files/${key}`);
    expect(await readObject(key)).toEqual({ contentType: 'image/png', bytes: PNG });

    const served = await http.get(`/files/${key}`).buffer(true);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(Buffer.from(served.body as Buffer)).toEqual(PNG);
  });

  it('put (buffer, sized stream, stream of unknown length), get, delete', async () => {
    const storage = deps.storage;
    await storage.put('exports/a.csv', Buffer.from('a,b\n'), { contentType: 'text/csv' });
    await storage.put('exports/b.csv', Readable.from([Buffer.from('x,'), Buffer.from('y\n')]), {
      contentType: 'text/csv',
    });
    await storage.put('exports/c.csv', Readable.from([Buffer.from('sized')]), {
      contentType: 'text/csv',
      contentLength: 5,
    });
    expect(await readObject('exports/a.csv')).toEqual({
      contentType: 'text/csv',
      bytes: Buffer.from('a,b\n'),
    });
    expect((await readObject('exports/b.csv')).bytes.toString()).toBe('x,y\n');
    const got = await storage.get('exports/c.csv');
    expect(got?.contentType).toBe('text/csv');
    const chunks: Buffer[] = [];
    for await (const chunk of got!.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('sized');

    await storage.delete('exports/a.csv');
    expect(await storage.get('exports/a.csv')).toBeUndefined();
    await storage.delete('exports/a.csv'); // already gone: no error
    await expect(
      storage.put('../escape', Buffer.from('x'), { contentType: 'text/plain' }),
    ).rejects.toThrow();
  });
});
