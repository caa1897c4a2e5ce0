import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { fileTypeFromBuffer } from 'file-type';
import type { AppDeps } from '../../deps.js';
import { AppError, validationFailed } from '../../lib/errors.js';
import type { Product } from './catalog.schemas.js';
import type { Caller } from '../auth/caller.js';
import { assertProductExists, setProductImage } from './catalog.service.js';
import { MAX_IMAGE_BYTES, MAX_IMAGE_REQUEST_BYTES } from './image-limits.js';

/** Enough leading bytes for file-type to recognise any format it knows. */
const SNIFF_BYTES = 4100;
const ALLOWED: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

interface SpooledImage {
  file: string;
  size: number;
  sha256: string;
  mime: string;
  extension: string;
}

/**
 * Streams the multipart field `file` to a temporary file while hashing it, sniffing its
 * magic bytes and counting its size (never holding it in memory), then stores it under its
 * content hash and points the product at it. Any failure removes the partial file.
 */
export async function uploadProductImage(
  deps: AppDeps,
  caller: Caller,
  productId: string,
  request: IncomingMessage,
): Promise<Product> {
  // Checked before reading a byte: another business's product is a 404, not an upload.
  await assertProductExists(deps, caller, productId);
  const tmpDir = deps.config.storage.tmpDir ?? os.tmpdir();
  await mkdir(tmpDir, { recursive: true });
  const image = await receiveImage(request, request.headers, tmpDir);
  try {
    const key = `images/${image.sha256}.${image.extension}`;
    await deps.storage.put(key, createReadStream(image.file), {
      contentType: image.mime,
      contentLength: image.size,
    });
    return await setProductImage(deps, caller, productId, key);
  } finally {
    await rm(image.file, { force: true });
  }
}

function receiveImage(
  request: IncomingMessage,
  headers: IncomingHttpHeaders,
  tmpDir: string,
): Promise<SpooledImage> {
  if (!/^multipart\/form-data\b/i.test(headers['content-type'] ?? '')) {
    return Promise.reject(
      new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the image as multipart/form-data, field "file"'),
    );
  }
  const declared = Number(headers['content-length'] ?? 0);
  if (declared > MAX_IMAGE_REQUEST_BYTES) {
    return Promise.reject(tooLarge());
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers,
      limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 20, parts: 25, fieldSize: 1024 },
    });
  } catch {
    return Promise.reject(
      new AppError('UNSUPPORTED_MEDIA_TYPE', 'The multipart/form-data body has no boundary'),
    );
  }

  return new Promise<SpooledImage>((resolve, reject) => {
    let settled = false;
    let spooling: Promise<SpooledImage> | undefined;
    let activeFile: Readable | undefined;
    const finish = (error: unknown, image?: SpooledImage) => {
      if (settled) return;
      settled = true;
      if (image && !error) {
        resolve(image);
        return;
      }
      // Stop parsing; Node discards whatever the client still sends once we answer.
      request.unpipe(parser);
      request.resume();
      const failure = error instanceof Error ? error : new Error('Upload failed');
      activeFile?.destroy(failure);
      // Answer only once the spooled file (partial or whole) is gone from disk.
      void (spooling ?? Promise.resolve(undefined))
        .then(
          async (spooled) => {
            if (spooled) await rm(spooled.file, { force: true });
          },
          () => undefined,
        )
        .then(() => reject(failure));
    };

    parser.on('file', (field, stream) => {
      // busboy destroys an open part with "Unexpected end of form" when the body is
      // truncated; without a listener that error would be uncaught and crash the process.
      // The parser's own 'error' (below) answers the request.
      stream.on('error', () => undefined);
      if (field !== 'file' || spooling) {
        stream.resume();
        return;
      }
      activeFile = stream;
      spooling = spool(stream, tmpDir);
      spooling.catch((error: unknown) => finish(error));
    });
    parser.on('close', () => {
      if (!spooling) {
        finish(
          validationFailed(
            [{ path: 'file', message: 'The multipart field "file" is required', code: 'required' }],
            'No file was uploaded',
          ),
        );
        return;
      }
      spooling.then(
        (image) => finish(undefined, image),
        (error: unknown) => finish(error),
      );
    });
    parser.on('error', () =>
      finish(new AppError('VALIDATION_FAILED', 'The multipart/form-data body is malformed')),
    );
    request.on('error', (error) => finish(error));
    // Whatever the parts hold, the request as a whole is bounded too (chunked bodies
    // declare no length).
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_IMAGE_REQUEST_BYTES) finish(tooLarge());
    });
    request.pipe(parser);
  });
}

/** Writes one file part to disk, rejecting (and deleting it) when too large or not an image. */
async function spool(stream: Readable & { truncated?: boolean }, tmpDir: string) {
  const file = path.join(tmpDir, `bapi-upload-${randomUUID()}`);
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  let detected: { mime: string; extension: string } | undefined;

  const sniff = async () => {
    const type = await fileTypeFromBuffer(head);
    const extension = type ? ALLOWED[type.mime] : undefined;
    if (!type || !extension) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'The file is not a JPEG, PNG or WebP image (checked by its content, not its name)',
      );
    }
    detected = { mime: type.mime, extension };
  };

  const inspect = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      hash.update(chunk);
      if (detected || head.length >= SNIFF_BYTES) {
        callback(null, chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < SNIFF_BYTES) {
        callback(null, chunk);
        return;
      }
      sniff().then(
        () => callback(null, chunk),
        (error: unknown) => callback(error as Error),
      );
    },
    flush(callback) {
      if (size === 0) {
        callback(
          validationFailed([{ path: 'file', message: 'The file is empty', code: 'too_small' }]),
        );
        return;
      }
      if (detected) {
        callback();
        return;
      }
      sniff().then(
        () => callback(),
        (error: unknown) => callback(error as Error),
      );
    },
  });
  // busboy stops at the limit and ends the stream; fail at once instead of storing 5 MB.
  stream.on('limit', () => inspect.destroy(tooLarge()));

  try {
    await pipeline(stream, inspect, createWriteStream(file));
    if (!detected) throw new Error('unreachable: image type not detected');
    return { file, size, sha256: hash.digest('hex'), ...detected };
  } catch (error) {
    stream.resume();
    await rm(file, { force: true });
    throw error;
  }
}

function tooLarge(): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `The image is larger than ${MAX_IMAGE_BYTES} bytes`);
}
