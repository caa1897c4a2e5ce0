import { describe, expect, it } from 'vitest';
import { newId, UUID_PATTERN } from './ids.js';

describe('newId', () => {
  it('makes unique version-7 ids that sort in creation order, even many per millisecond', () => {
    // Far more ids than one refill of the random pool, most of them within one millisecond.
    const ids = Array.from({ length: 5_000 }, () => newId());
    for (const id of ids) {
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('carries the current time in its first 48 bits', () => {
    const before = Date.now();
    const id = newId();
    const msecs = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1);
  });
});
