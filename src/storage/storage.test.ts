import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { LocalStorage } from './local.js';
import { fileUrl, signedFileUrl, verifyFileSignature } from './storage-url.js';
import { createStorage } from './create-storage.js';
import { contentTypeOfKey, isStorageKey } from './storage.js';

const env = { NODE_ENV: 'test', PUBLIC_URL: 'https://pos.example.co.ke/' };

describe('storage keys', () => {
  it('accepts folder/name and refuses anything that could escape the folder', () => {
    expect(isStorageKey('images/3f2a.png')).toBe(true);
    expect(isStorageKey('exports/sales-2026-11.csv')).toBe(true);
    for (const key of [
      '../x',
      'images/../../etc/passwd',
      'images/a/b.png',
      '/images/a',
      'images/.hidden',
      'IMAGES/a.png',
      'images/',
      'a',
    ]) {
      expect(isStorageKey(key), key).toBe(false);
    }
    expect(contentTypeOfKey('images/a.webp')).toBe('image/webp');
    expect(contentTypeOfKey('images/a.unknown')).toBe('application/octet-stream');
  });
});

describe('storage configuration', () => {
  it('defaults to local disk and requires a bucket for s3', () => {
    const config = loadConfig(env);
    expect(config.storage.driver).toBe('local');
    expect(config.storage.localDir).toBe('.data/uploads');
    expect(createStorage(config).driver).toBe('local');
    expect(() => loadConfig({ ...env, STORAGE_DRIVER: 's3' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, STORAGE_DRIVER: 'ftp' })).toThrow(ConfigError);
    const s3 = loadConfig({ ...env, STORAGE_DRIVER: 's3', S3_BUCKET: 'b' });
    expect(createStorage(s3).driver).toBe('s3');
  });
});

describe('file URLs', () => {
  const config = loadConfig(env);
  const now = new Date('2026-11-22T10:00:00Z');

  it('are built from PUBLIC_URL', () => {
    expect(fileUrl(config, 'images/a.png')).toBe('https://pos.example.co.ke/files/images/a.png');
  });

  it('signed URLs verify until they expire, for their key only', () => {
    const url = new URL(signedFileUrl(config, 'exports/a.csv', new Date(now.getTime() + 60_000)));
    const expires = Number(url.searchParams.get('expires'));
    const signature = url.searchParams.get('signature')!;
    expect(verifyFileSignature(config, 'exports/a.csv', expires, signature, now)).toBe(true);
    expect(verifyFileSignature(config, 'exports/b.csv', expires, signature, now)).toBe(false);
    expect(verifyFileSignature(config, 'exports/a.csv', expires + 1, signature, now)).toBe(false);
    expect(
      verifyFileSignature(
        config,
        'exports/a.csv',
        expires,
        signature,
        new Date(now.getTime() + 120_000),
      ),
    ).toBe(false);
    const other = loadConfig({ ...env, JWT_SECRET: 'another-secret-0123456789-abcdefghijklmnop' });
    expect(verifyFileSignature(other, 'exports/a.csv', expires, signature, now)).toBe(false);
  });
});

describe('LocalStorage', () => {
  it('leaves nothing behind when the source stream fails midway', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bapi-local-'));
    const storage = new LocalStorage(dir);
    const failing = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(
      storage.put('images/x.png', failing, { contentType: 'image/png' }),
    ).rejects.toThrow();
    expect(readdirSync(path.join(dir, 'images'))).toEqual([]);
    expect(await storage.get('images/x.png')).toBeUndefined();
  });
});
