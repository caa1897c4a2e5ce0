import { z } from 'zod';
import { booleanString, defineArea, trimmedString } from './area.js';

/** Product images and exports: local disk (one machine) or S3-compatible storage. */
export const storageArea = defineArea({
  schema: z.object({
    STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
    STORAGE_LOCAL_DIR: z.string().min(1).default('.data/uploads'),
    /** Where uploads are spooled while being checked and hashed (default: the OS temp dir). */
    UPLOAD_TMP_DIR: trimmedString.optional(),
    S3_BUCKET: trimmedString.optional(),
    S3_ENDPOINT: z.url().optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_ACCESS_KEY_ID: trimmedString.optional(),
    S3_SECRET_ACCESS_KEY: trimmedString.optional(),
    /** Path-style URLs (`endpoint/bucket/key`), as MinIO and most S3-compatible servers want. */
    S3_FORCE_PATH_STYLE: booleanString.default(true),
  }),
  check: (env) =>
    env.STORAGE_DRIVER === 's3' && env.S3_BUCKET === undefined
      ? ['S3_BUCKET: is required when STORAGE_DRIVER=s3']
      : [],
  build: (env) => ({
    storage: {
      driver: env.STORAGE_DRIVER,
      localDir: env.STORAGE_LOCAL_DIR,
      tmpDir: env.UPLOAD_TMP_DIR,
      s3: {
        bucket: env.S3_BUCKET ?? '',
        endpoint: env.S3_ENDPOINT,
        region: env.S3_REGION,
        accessKeyId: env.S3_ACCESS_KEY_ID,
        secretAccessKey: env.S3_SECRET_ACCESS_KEY,
        forcePathStyle: env.S3_FORCE_PATH_STYLE,
      },
    },
  }),
});
