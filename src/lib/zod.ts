import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Adds `.openapi()` (parameter metadata, examples) to every schema. Import `z` from here.
extendZodWithOpenApi(z);

export { z };

/**
 * ISO 8601 date-times, bounded. Answers carry toISOString() (24 characters); a client's
 * offset and nanoseconds still fit (`2026-11-22T10:15:30.123456789+03:00` is 35), so the
 * limit refuses only junk such as a fraction thousands of digits long.
 */
export const MAX_TIMESTAMP_LENGTH = 40;
export const timestamp = (params?: Parameters<typeof z.iso.datetime>[0]) =>
  z.iso.datetime(params).max(MAX_TIMESTAMP_LENGTH);
