// `pnpm openapi:export`: writes the OpenAPI document generated from the route declarations
// to sdk/openapi.json (the SDK is generated from that file; CI checks it is current).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildOpenApiDocument } from '../src/openapi.js';
import { allRoutes } from '../src/routes.js';

const target = path.resolve(process.argv[2] ?? 'sdk/openapi.json');
const document = buildOpenApiDocument(allRoutes, { serverUrl: 'http://127.0.0.1:3000' });
await mkdir(path.dirname(target), { recursive: true });
await writeFile(target, `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write(`OpenAPI document written to ${path.relative(process.cwd(), target)}\n`);
