import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { routeBodyLimitBytes } from '../../src/http/route.js';
import { buildOpenApiDocument } from '../../src/openapi.js';
import { allRoutes } from '../../src/routes.js';
import { createTestApp } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { expectProblem } from '../helpers/problem.js';
import { insertProduct, saleBody } from '../helpers/sales-factories.js';

/*
 * The exported document as a validating client reads it: every pattern is a valid
 * ECMAScript regex (with the `u` flag JSON Schema implies, and no leaked `/u` suffix),
 * every example validates against its own schema, and rules the server enforces are stated.
 */
const document = JSON.parse(
  JSON.stringify(buildOpenApiDocument(allRoutes, { serverUrl: 'http://127.0.0.1:3000' })),
) as Record<string, unknown>;

type Node = Record<string, unknown>;
/** Every object in the document with its JSON pointer. */
function* walk(node: unknown, pointer = ''): Generator<[Node, string]> {
  if (typeof node !== 'object' || node === null) return;
  if (!Array.isArray(node)) yield [node as Node, pointer];
  for (const [key, value] of Object.entries(node)) {
    yield* walk(value, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
}

const operation = (path: string, method: string) =>
  (document.paths as Record<string, Record<string, Node>>)[path]![method]!;
const schemaOf = (id: string) =>
  (document.components as { schemas: Record<string, Node & { properties: Record<string, Node> }> })
    .schemas[id]!;

describe('the OpenAPI document as validating clients read it', () => {
  it('every pattern compiles with the u flag and carries no regex-literal flag suffix', () => {
    const patterns = [...walk(document)]
      .filter(([node]) => typeof node.pattern === 'string')
      .map(([node, pointer]) => [node.pattern as string, pointer] as const);
    expect(patterns.length).toBeGreaterThan(20);
    for (const [pattern, pointer] of patterns) {
      expect(() => new RegExp(pattern, 'u'), pointer).not.toThrow();
      expect(pattern, pointer).not.toMatch(/\$\/[dgimsuvy]+$/);
    }
  });

  it('every example validates against its own schema (Ajv, JSON Schema 2020-12)', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addFormat('password', true);
    ajv.addFormat('binary', true);
    ajv.addSchema({ ...document, $id: 'openapi' });
    let checked = 0;
    for (const [node, pointer] of walk(document)) {
      // A schema with its own example, or a parameter / media type with an example beside its schema.
      const target =
        'schema' in node
          ? `${pointer}/schema`
          : 'type' in node || '$ref' in node
            ? pointer
            : undefined;
      if (!('example' in node) || target === undefined || pointer.endsWith('/properties')) continue;
      const validate = ajv.compile({ $ref: `openapi#${target}` });
      expect(validate(node.example), `${pointer}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(10);
    // The names whose pattern leaked `/u` are among them: a validating client accepts them now.
    expect(
      new RegExp(schemaOf('UpdateBusiness').properties.name!.pattern as string, 'u').test(
        'Duka la Mama Njeri',
      ),
    ).toBe(true);
  });

  it('states the rules the server enforces', () => {
    const insertProduct = schemaOf('CreateProduct').properties;
    expect(insertProduct.taxRate!.description).toMatch(/basis points: 1600 = 16 %/i);
    const sale = schemaOf('CreateSaleBody');
    const lines = sale.properties.lines as { items: { properties: Record<string, Node> } };
    expect(lines.items.properties.quantity).toMatchObject({ 'x-max-decimals': 3 });
    expect(lines.items.properties.productId!.pattern).toContain('[89abAB]'); // RFC variant bits
    // clientRequestId: any UUID version and variant, as API.md says.
    const anyId = new RegExp(sale.properties.clientRequestId!.pattern as string, 'u');
    expect(anyId.test('01900000-0000-0000-0000-000000000000')).toBe(true);
    expect(anyId.test('not-a-uuid')).toBe(false);
    expect(schemaOf('UpdateBusiness').properties.timezone).toMatchObject({
      pattern: expect.any(String),
      example: 'Africa/Nairobi',
    });
    for (const route of allRoutes.filter((candidate) => candidate.request?.body)) {
      const op = operation(route.path, route.method);
      expect(op['x-body-limit'], route.operationId).toBe(routeBodyLimitBytes(route));
      expect((op.requestBody as Node).description).toContain(
        `at most ${routeBodyLimitBytes(route)} bytes`,
      );
    }
  });
});

describe('the server keeps to what the document says', () => {
  const { http, deps } = createTestApp();

  it('an empty Idempotency-Key header is refused with 400, on optional and required routes', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    const optional = await http
      .post('/products')
      .set('Authorization', shop.owner.auth)
      .set('Idempotency-Key', '')
      .send({ name: 'Sugar 1 kg', price: 20_000 });
    expectProblem(optional, 400, 'VALIDATION_FAILED');
    expect(optional.body.errors).toEqual([
      expect.objectContaining({ path: 'headers.idempotency-key' }),
    ]);
    const required = await http
      .post('/inventory/adjustments')
      .set('Authorization', shop.owner.auth)
      .set('Idempotency-Key', '')
      .send({ items: [{ productId: product.id, type: 'receive', quantity: 1 }] });
    expectProblem(required, 400, 'VALIDATION_FAILED');
    const products = await http.get('/products').set('Authorization', shop.owner.auth);
    expect(products.body.data).toHaveLength(1); // nothing was created
  });

  it('clientRequestId takes any UUID version and variant (a device may make non-RFC ones)', async () => {
    const shop = await createBusiness(deps);
    const product = await insertProduct(deps, shop.id, shop.owner.id);
    for (const clientRequestId of [
      '01900000-0000-0000-0000-000000000000', // version 0, variant 0 (NCS)
      `${randomUUID().slice(0, 19)}c${randomUUID().slice(20)}`, // Microsoft variant
      'FFFFFFFF-0000-F000-E000-000000000001', // upper case, version 15
    ]) {
      const created = await http
        .post('/sales')
        .set('Authorization', shop.cashier.auth)
        .send(saleBody([{ product }], { clientRequestId }));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.clientRequestId).toBe(clientRequestId.toLowerCase());
    }
    const notUuid = await http
      .post('/sales')
      .set('Authorization', shop.cashier.auth)
      .send(saleBody([{ product }], { clientRequestId: '0190000000000000-0000-0000-00000000' }));
    expectProblem(notUuid, 400, 'VALIDATION_FAILED');
  });

  it('a timezone must be an IANA name: a UTC offset is refused though Intl would take it', async () => {
    const shop = await createBusiness(deps);
    const offset = await http
      .patch('/business')
      .set('Authorization', shop.owner.auth)
      .send({ timezone: '+03:00' });
    expectProblem(offset, 400, 'VALIDATION_FAILED');
    const zone = await http
      .patch('/business')
      .set('Authorization', shop.owner.auth)
      .send({ timezone: 'America/Argentina/Buenos_Aires' });
    expect(zone.status).toBe(200);
  });
});
