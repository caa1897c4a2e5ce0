/**
 * The unique constraint a failed write ran into, or undefined. node-postgres raises the
 * error with `code = '23505'` and the constraint's name; Drizzle (and our own wrappers) may
 * wrap it in one or more errors that keep it as `cause`, so the chain is walked — a few
 * levels at most, in case of a cycle.
 */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (candidate.code === '23505') {
      return typeof candidate.constraint === 'string' ? candidate.constraint : '';
    }
    current = candidate.cause;
  }
  return undefined;
}
