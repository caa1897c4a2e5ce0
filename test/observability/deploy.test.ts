import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';

// Every query of the Grafana dashboard and every alert rule names metrics this service
// really exports: a renamed metric fails here, not silently on a dashboard.

const DASHBOARD = 'deploy/observability/grafana/dashboards/backend-api.json';
const ALERTS = 'deploy/observability/prometheus/alerts.yml';

/** Series Prometheus itself makes for every target. */
const PROMETHEUS_OWN = new Set(['up']);
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** Metric names a PromQL expression reads (strings, label sets, ranges and functions aside). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter((match) => match[2] === undefined && !PROMQL_WORDS.has(match[1]!.toLowerCase()))
    .map((match) => match[1]!);
}

function dashboardExprs(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}

/** `expr:` values of the rules file: one line, or a `|` block of deeper-indented lines. */
function alertExprs(): string[] {
  const lines = readFileSync(ALERTS, 'utf8').split('\n');
  const exprs: string[] = [];
  lines.forEach((line, index) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) return;
    if (match[2] !== '|') {
      exprs.push(match[2]!);
      return;
    }
    const block: string[] = [];
    for (const next of lines.slice(index + 1)) {
      if (next.trim() !== '' && next.search(/\S/) <= match[1]!.length) break;
      block.push(next);
    }
    exprs.push(block.join('\n'));
  });
  return exprs;
}

/** Names in the exposition (`# TYPE`), with a histogram's _bucket, _sum and _count series. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name!}${suffix}`);
    }
  }
  return names;
}

describe('deploy/observability against /metrics', () => {
  const { http } = createTestApp();

  it('the expression parser finds metric names and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!~"/a|/b"}[5m]))) > 1 and max(up{job="x"}) == 0',
      ),
    ).toEqual(['http_request_duration_seconds_bucket', 'up']);
  });

  it('every dashboard query and alert rule names an exported metric', async () => {
    const response = await http.get('/metrics');
    expect(response.status).toBe(200);
    const exported = exportedNames(response.text);
    const dashboard = dashboardExprs();
    const alerts = alertExprs();
    expect(dashboard.length).toBeGreaterThanOrEqual(15);
    expect(alerts.length).toBeGreaterThanOrEqual(12);
    const missing = [...dashboard, ...alerts].flatMap((expr) =>
      metricNames(expr)
        .filter((name) => !exported.has(name) && !PROMETHEUS_OWN.has(name))
        .map((name) => `${name} in: ${expr.trim()}`),
    );
    expect(missing).toEqual([]);
    // The operational gauges behind the alerts are there with samples.
    expect(response.text).toMatch(/^backend_dependency_up\{dependency="postgresql"\} 1$/m);
    expect(response.text).toMatch(/^webhook_attempts_recent\{result="failed"\} \d+$/m);
    expect(response.text).toMatch(/^mpesa_payments_pending \d+$/m);
  });
});
