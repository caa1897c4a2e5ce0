import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/*
 * The SDK as an integrator gets it: `npm pack ./sdk` (its prepack builds dist), the tarball
 * unpacked into a scratch project's node_modules the way npm installs it, and that project
 * type-checked with the real compiler. Offline: openapi-fetch, the SDK's one dependency,
 * is linked from this repository's own install instead of fetched.
 */
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'sdk-consumer-'));
  const { stdout } = await run(
    'npm',
    ['pack', './sdk', '--pack-destination', scratch, '--json', '--ignore-scripts=false'],
    { cwd: ROOT, timeout: 120_000 },
  );
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  const packedPaths = packed!.files.map((file) => file.path);
  expect(packedPaths).toContain('dist/schema.d.ts');
  expect(packedPaths).toEqual(
    expect.arrayContaining([
      'dist/offline/index.js',
      'dist/offline/index.d.ts',
      'dist/offline/node.js',
      'dist/offline/node.d.ts',
    ]),
  );
  const target = path.join(scratch, 'node_modules/@backend-api/sdk');
  await mkdir(target, { recursive: true });
  await run('tar', [
    '-xzf',
    path.join(scratch, packed!.filename),
    '-C',
    target,
    '--strip-components=1',
  ]);
  await symlink(
    await realpath(path.join(ROOT, 'node_modules/openapi-fetch')),
    path.join(scratch, 'node_modules/openapi-fetch'),
  );
  await writeFile(
    path.join(scratch, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
}, 180_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const program = (assignment: string) => `
import { createClient, unwrap, type Schemas } from '@backend-api/sdk';

const api = createClient({ baseUrl: 'https://api.example.co.ke', token: 'token' });
export async function read(): Promise<void> {
  const page = await unwrap(api.GET('/products', { params: { query: { limit: '50' } } }));
  const first: Schemas['Product'] | undefined = page.data[0];
  ${assignment}
  void first;
}
`;

async function typeCheck(source: string, skipLibCheck: boolean) {
  await writeFile(path.join(scratch, 'index.ts'), source);
  await writeFile(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck,
        types: [],
      },
      files: ['index.ts'],
    }),
  );
  return run(process.execPath, [TSC, '-p', scratch], { cwd: scratch, timeout: 120_000 }).then(
    () => ({ code: 0, output: '' }),
    (error: unknown) => {
      const failed = error as { code?: number; stdout?: string };
      return { code: failed.code ?? 1, output: failed.stdout ?? '' };
    },
  );
}

describe('the packed SDK ships its response types', () => {
  for (const skipLibCheck of [true, false]) {
    it(`skipLibCheck: ${skipLibCheck} — a right assignment compiles, a wrong one is a type error`, async () => {
      const right = await typeCheck(
        program('const name: string = page.data[0]?.name ?? "";\n  void name;'),
        skipLibCheck,
      );
      expect(right, right.output).toEqual({ code: 0, output: '' });

      const wrong = await typeCheck(
        program('const name: number = page.data[0]!.name;\n  void name;'),
        skipLibCheck,
      );
      expect(wrong.code).not.toBe(0);
      expect(wrong.output).toMatch(
        /index\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/,
      );
      expect(wrong.output).not.toMatch(/TS2307/); // every module resolved
    }, 120_000);
  }
});

const offlineProgram = (assignment: string) => `
import { createTill, liveEvents, type QueuedItem } from '@backend-api/sdk/offline';
import { fileStorage } from '@backend-api/sdk/offline/node';

export async function ring(): Promise<void> {
  const till = await createTill({
    baseUrl: 'https://api.example.co.ke',
    getToken: () => 'token',
    deviceId: 'till-1',
    storage: fileStorage('/tmp/till.json'),
    events: liveEvents({ baseUrl: 'https://api.example.co.ke', getToken: () => 'token' }),
  });
  const item: QueuedItem = await till.recordSale({
    lines: [{ productId: '0190a000-0000-7000-8000-000000000000', quantity: 1 }],
    payments: [{ method: 'cash', amount: 5000 }],
  });
  ${assignment}
  void item;
}
`;

describe('the packed SDK ships the offline kit with its types', () => {
  it('@backend-api/sdk/offline (with liveEvents) and /offline/node resolve; a wrong use is a type error', async () => {
    const right = await typeCheck(
      offlineProgram('const left: number = (await till.pending()).length;\n  void left;'),
      false,
    );
    expect(right, right.output).toEqual({ code: 0, output: '' });

    const wrong = await typeCheck(
      offlineProgram(
        "await till.recordSale({ lines: [], payments: [{ method: 'cheque', amount: 1 }] });",
      ),
      false,
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(
      /index\.ts\(\d+,\d+\): error TS2322: Type '"cheque"' is not assignable/,
    );
    expect(wrong.output).not.toMatch(/TS2307/);
  }, 120_000);
});
