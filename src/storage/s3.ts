import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { assertStorageKey, type PutOptions, type Storage, type StoredObject } from './storage.js';

export interface S3StorageOptions {
  bucket: string;
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/** S3 or any S3-compatible server (MinIO, R2, s3rver in tests). */
export class S3Storage implements Storage {
  readonly driver = 's3' as const;
  private readonly client: S3Client;

  constructor(
    private readonly options: S3StorageOptions,
    private readonly tmpDir: string = os.tmpdir(),
  ) {
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      // Newer SDKs send streaming bodies as aws-chunked with trailing CRC checksums, which
      // many S3-compatible servers store verbatim or reject; send plain bodies unless the
      // operation requires a checksum.
      ...(options.endpoint
        ? {
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
      ...(options.accessKeyId && options.secretAccessKey
        ? {
            credentials: {
              accessKeyId: options.accessKeyId,
              secretAccessKey: options.secretAccessKey,
            },
          }
        : {}),
    });
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions): Promise<void> {
    assertStorageKey(key);
    if (Buffer.isBuffer(body) || options.contentLength !== undefined) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          ContentLength: Buffer.isBuffer(body) ? body.length : options.contentLength,
        }),
      );
      return;
    }
    // A single PUT needs the length up front; spool a stream of unknown length to disk
    // (never to memory), then send the file.
    const dir = await mkdtemp(path.join(this.tmpDir, 'bapi-s3-'));
    const file = path.join(dir, 'body');
    try {
      await pipeline(body, createWriteStream(file));
      const { size } = await stat(file);
      await this.put(key, createReadStream(file), { ...options, contentLength: size });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    assertStorageKey(key);
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      if (!(object.Body instanceof Readable)) return undefined;
      return {
        body: object.Body,
        contentType: object.ContentType ?? 'application/octet-stream',
        size: object.ContentLength,
      };
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NotFound') {
        return undefined;
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertStorageKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }

  /** Closes the client's sockets (shutdown, tests). */
  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
