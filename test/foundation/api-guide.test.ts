import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEM_CODE_LIST } from '../../src/lib/errors.js';
import { WEBHOOK_EVENTS } from '../../src/modules/webhooks/webhook-events.js';
import { scenarioFor } from '../../src/mpesa/simulator/scenarios.js';
import { allRoutes } from '../../src/routes.js';

// docs/api.md is the repository's own API guide (a clone has no other). It must keep up
// with the code: every route, problem code, webhook event, simulator phone number and
// Idempotency-Key rule the code has is named there.

const guide = readFileSync('docs/api.md', 'utf8');

describe('docs/api.md', () => {
  it('names every route of the registry', () => {
    const missing = allRoutes
      .map((route) => `${route.method.toUpperCase()} ${route.path}`)
      .filter((route) => !guide.includes(`\`${route}\``) && !guide.includes(`${route}\``));
    expect(missing).toEqual([]);
  });

  it('lists every problem code in the errors table', () => {
    const table = guide.slice(guide.indexOf('## Errors'), guide.indexOf('## Idempotency'));
    expect(PROBLEM_CODE_LIST.filter((code) => !table.includes(`\`${code}\``))).toEqual([]);
  });

  it('lists every webhook event', () => {
    expect(WEBHOOK_EVENTS.filter((event) => !guide.includes(`\`${event}\``))).toEqual([]);
  });

  it("lists the simulator's test phone numbers, each with its own scenario", () => {
    const phones = [...guide.matchAll(/`(2547000000\d\d)`/g)].map((match) => match[1]!);
    const scenarios = new Set(phones.map(scenarioFor));
    expect(phones.length).toBeGreaterThanOrEqual(8);
    // Every listed number does something different, and the list covers every scenario.
    expect(scenarios.size).toBe(new Set(phones).size);
    for (let last = 1; last < 20; last++) {
      const phone = `2547000000${String(last).padStart(2, '0')}`;
      if (scenarioFor(phone) !== 'success' || last === 1) expect(phones).toContain(phone);
    }
  });

  it('says where Idempotency-Key is required and where it is accepted', () => {
    const section = guide.slice(guide.indexOf('## Idempotency'), guide.indexOf('## Roles'));
    const required = section.slice(section.indexOf('Required on'), section.indexOf('accepted on'));
    const accepted = section.slice(section.indexOf('accepted on'));
    for (const route of allRoutes.filter((r) => r.idempotency)) {
      const name = `\`${route.method.toUpperCase()} ${route.path}\``;
      expect(route.idempotency === 'required' ? required : accepted, name).toContain(name);
    }
  });

  it('is what the README points at (a clone has no ../shared/API.md)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('docs/api.md');
    expect(readme).not.toContain('../shared/API.md');
  });
});
