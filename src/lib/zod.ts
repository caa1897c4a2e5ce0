import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Adds `.openapi()` (parameter metadata, examples) to every schema. Import `z` from here.
extendZodWithOpenApi(z);

export { z };

/**
 * "At most 3 decimals" as the OpenAPI document states it: in words, and as
 * `x-max-decimals` for tools. Not as `multipleOf: 0.001`: common validators (Ajv,
 * python-jsonschema) divide in binary floating point and would refuse 0.3 (0.3 / 0.001 =
 * 299.99999999999994), so clients validating against the document would reject good input.
 */
export const threeDecimals = { 'x-max-decimals': 3 } as const;

/**
 * ISO 8601 date-times, bounded. Answers carry toISOString() (24 characters); a client's
 * offset and nanoseconds still fit (`2026-11-22T10:15:30.123456789+03:00` is 35), so the
 * limit refuses only junk such as a fraction thousands of digits long.
 */
export const MAX_TIMESTAMP_LENGTH = 40;
export const timestamp = (params?: Parameters<typeof z.iso.datetime>[0]) =>
  z.iso.datetime(params).max(MAX_TIMESTAMP_LENGTH);

/**
 * Text without control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F).
 * Written as ranges rather than `\p{Cc}`: the OpenAPI document then carries a pattern that
 * needs no `u` flag (zod-to-openapi would leak the flag into it as `…$/u`, which no client
 * can match) and that every regex engine reads the same.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const NO_CONTROL_CHARACTERS = /^[^\x00-\x1f\x7f-\x9f]*$/;

/** Any 8-4-4-4-12 hexadecimal UUID, whatever its version and variant bits. */
const ANY_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * An id a device makes (`clientRequestId`): API.md accepts any UUID version, and devices
 * also make non-RFC variants (random bytes formatted as a UUID), which PostgreSQL's uuid
 * type stores as well. `z.uuid()` (used for ids the server made) insists on RFC 9562
 * version and variant bits, so it is not used here.
 */
export const anyUuid = () =>
  z
    .string()
    .regex(ANY_UUID, 'must be a UUID (8-4-4-4-12 hexadecimal digits, any version)')
    // As PostgreSQL's uuid type will answer it, so a replay compares equal to the original.
    .toLowerCase()
    .openapi({ format: 'uuid', pattern: ANY_UUID.source });
