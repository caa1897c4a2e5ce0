import { defineRoute } from '../../http/route.js';
import { AppError, notFound } from '../../lib/errors.js';
import { z } from '../../lib/zod.js';
import { isStorageKey } from '../../storage/storage.js';
import { PUBLIC_FOLDERS, verifyFileSignature } from '../../storage/storage-url.js';

const getFile = defineRoute({
  method: 'get',
  path: '/files/{folder}/{name}',
  operationId: 'getFile',
  summary: 'A stored file: product images are public; other files need a signed URL',
  description:
    'Every URL the API hands out for a stored file (imageUrl, downloadUrl) points here, whatever the ' +
    'storage driver. Image names are content hashes, so they are cached as immutable.',
  tags: ['Files'],
  access: 'public',
  request: {
    params: z.object({ folder: z.string().max(40), name: z.string().max(200) }),
    query: z.object({
      expires: z
        .string()
        .regex(/^\d{1,12}$/)
        .max(12)
        .transform(Number)
        .optional(),
      signature: z.string().max(100).optional(),
    }),
  },
  problems: ['NOT_FOUND', 'FORBIDDEN'],
  responses: {
    200: {
      description: 'The file',
      schema: z.string().openapi({ type: 'string', format: 'binary' }),
      contentType: 'application/octet-stream',
    },
  },
  handler: async (ctx) => {
    const { folder, name } = ctx.input.params;
    const key = `${folder}/${name}`;
    if (!isStorageKey(key)) throw notFound('File');
    const isPublic = PUBLIC_FOLDERS.has(folder);
    if (!isPublic) {
      const { expires, signature } = ctx.input.query;
      if (
        expires === undefined ||
        signature === undefined ||
        !verifyFileSignature(ctx.deps.config, key, expires, signature, ctx.deps.clock())
      ) {
        throw new AppError('FORBIDDEN', 'This link is invalid or has expired');
      }
    }
    const object = await ctx.deps.storage.get(key);
    if (!object) throw notFound('File');
    ctx.status = 200;
    ctx.type = object.contentType;
    if (object.size !== undefined) ctx.length = object.size;
    ctx.set(
      'Cache-Control',
      isPublic ? 'public, max-age=31536000, immutable' : 'private, max-age=300',
    );
    if (!isPublic) ctx.attachment(name);
    ctx.body = object.body;
  },
});

export const filesRoutes = [getFile];
