import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface PgbenchResult {
  /** The median run's figures when several ran (`runs` lists every run's tps). */
  tps: number;
  runs?: number[];
  latencyAvgMs: number;
  failed: number;
}

/** Recreates `name` on the admin connection's server and returns its URL. */
export async function recreateDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}

/** The scratch schema and 100 × 1,000 products of performance.md, in its own database. */
export async function prepareReference(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(await readFile('bench/reference/schema.sql', 'utf8'));
  await client.end();
}

/** `pgbench -n -f <script> -M extended -c 16 -j 2 -T <seconds>`, parsed. */
export async function pgbench(
  url: string,
  script: string,
  seconds: number,
  clients = 16,
): Promise<PgbenchResult> {
  const { stdout } = await run(
    'pgbench',
    [
      '-n',
      '-f',
      script,
      '-M',
      'extended',
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      url,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const latencyAvgMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? 0);
  const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
  return { tps, latencyAvgMs, failed };
}

/**
 * `pgbench` `runs` times; the median run. One 10–15 s pgbench run on this shared box moved
 * by up to 1.8× between runs (897 / 1,596 / 1,558 tps within a minute), and the first run on
 * fresh scratch tables was usually the slowest; every ratio divides by this figure.
 */
export async function pgbenchMedian(
  url: string,
  script: string,
  seconds: number,
  runs: number,
): Promise<PgbenchResult> {
  const results: PgbenchResult[] = [];
  for (let index = 0; index < runs; index++) results.push(await pgbench(url, script, seconds));
  const sorted = [...results].sort((x, y) => x.tps - y.tps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? {
    tps: 0,
    latencyAvgMs: 0,
    failed: 0,
  };
  return { ...median, runs: results.map((result) => result.tps) };
}
