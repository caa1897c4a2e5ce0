import { z } from 'zod';

/**
 * Bounds the validators already enforce but zod-to-openapi leaves out of the document,
 * written in so clients and the OWASP lint (`pnpm lint:api`) see them:
 * - `z.int()` accepts only safe integers, so an integer without explicit bounds is within
 *   ±(2^53 − 1); every integer gets `format` int32 or int64 from its bounds.
 * - a `uuid` string is exactly 36 characters, and (from `z.uuid()`, ids the server makes)
 *   carries RFC 9562 version and variant bits: zod's own pattern says which. Ids a device
 *   makes (`anyUuid()`) declare their looser pattern themselves.
 * Nothing here loosens or invents a limit: explicit bounds from the schemas are kept.
 */
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const UUID_LENGTH = 36;
const RFC_UUID_PATTERN = z.regexes.uuid().source;

type SchemaNode = Record<string, unknown>;

export function addImpliedBounds(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) addImpliedBounds(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as SchemaNode;
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('integer')) boundInteger(schema);
  if (types.includes('string') && schema.format === 'uuid') {
    schema.minLength ??= UUID_LENGTH;
    schema.maxLength ??= UUID_LENGTH;
    schema.pattern ??= RFC_UUID_PATTERN;
  }
  for (const value of Object.values(schema)) addImpliedBounds(value);
}

function boundInteger(schema: SchemaNode): void {
  if (schema.minimum === undefined && schema.exclusiveMinimum === undefined) {
    schema.minimum = Number.MIN_SAFE_INTEGER;
  }
  if (schema.maximum === undefined && schema.exclusiveMaximum === undefined) {
    schema.maximum = Number.MAX_SAFE_INTEGER;
  }
  const lowest = Number(schema.minimum ?? schema.exclusiveMinimum);
  const highest = Number(schema.maximum ?? schema.exclusiveMaximum);
  schema.format ??= lowest >= INT32_MIN && highest <= INT32_MAX ? 'int32' : 'int64';
}
