const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * JSON with object keys sorted at every depth and ISO timestamps normalised to UTC
 * milliseconds, so two bodies that mean the same thing compare equal as strings.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      if (record[key] !== undefined) sorted[key] = normalise(record[key]);
    }
    return sorted;
  }
  if (typeof value === 'string' && ISO_INSTANT.test(value)) {
    const instant = Date.parse(value);
    if (!Number.isNaN(instant)) return new Date(instant).toISOString();
  }
  return value;
}
