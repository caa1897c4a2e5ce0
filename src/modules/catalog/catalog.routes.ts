import { requireAuth } from '../../http/context.js';
import { sendEntity } from '../../http/etag.js';
import { defineRoute } from '../../http/route.js';
import {
  CreateProductBody,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  ImageUploadBody,
  ListProductsQuery,
  ProductListSchema,
  ProductParams,
  ProductSchema,
  UpdateProductBody,
} from './catalog.schemas.js';
import * as catalog from './catalog.service.js';
import { MAX_IMAGE_REQUEST_BYTES } from './image-limits.js';
import { uploadProductImage } from './product-image.service.js';
import { categoryRoutes } from './category.routes.js';

const tags = ['Catalog'];
const etagHeader = {
  ETag: { description: 'Send it back as If-None-Match to get 304 when unchanged' },
};

const listProducts = defineRoute({
  method: 'get',
  path: '/products',
  operationId: 'listProducts',
  summary: 'List products ordered by (updatedAt, id); updatedSince is the offline delta sync',
  description:
    'Without `updatedSince`, archived products are left out unless `includeArchived=true`. ' +
    'With `updatedSince=T`, every product whose updatedAt is strictly later than T is returned, archived ones ' +
    'included (tombstones). Writes of a business are serialised and stamped in commit order, so passing the ' +
    'largest updatedAt already seen never misses a later change. A product edited while a client pages moves ' +
    'to the end and is returned again with its new updatedAt; no product is ever skipped.',
  tags,
  access: 'catalog:read',
  request: { query: ListProductsQuery, headers: IfNoneMatchHeaders },
  responses: {
    200: { description: 'A page of products', schema: ProductListSchema, headers: etagHeader },
    304: { description: 'Not modified since the ETag sent in If-None-Match' },
  },
  handler: async (ctx) => {
    const { etag, body } = await catalog.listProductsEntity(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.query,
      ctx.get('if-none-match'),
    );
    sendEntity(ctx, etag, body);
  },
});

const getProduct = defineRoute({
  method: 'get',
  path: '/products/{id}',
  operationId: 'getProduct',
  summary: 'Get a product (archived ones too)',
  tags,
  access: 'catalog:read',
  request: { params: ProductParams, headers: IfNoneMatchHeaders },
  responses: {
    200: { description: 'The product', schema: ProductSchema, headers: etagHeader },
    304: { description: 'Not modified since the ETag sent in If-None-Match' },
  },
  handler: async (ctx) => {
    const { etag, body } = await catalog.getProductEntity(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.get('if-none-match'),
    );
    sendEntity(ctx, etag, body);
  },
});

const createProduct = defineRoute({
  method: 'post',
  path: '/products',
  operationId: 'createProduct',
  summary: 'Create a product (stock starts at 0; use POST /inventory/adjustments to receive stock)',
  tags,
  access: 'catalog:write',
  requiresActiveSubscription: true,
  idempotency: 'optional',
  request: { body: CreateProductBody },
  problems: ['CONFLICT', 'UNPROCESSABLE'],
  responses: {
    201: {
      description: 'Created',
      schema: ProductSchema,
      headers: { Location: { description: 'The product URL' } },
    },
  },
  handler: async (ctx) => {
    const product = await catalog.createProduct(ctx.deps, requireAuth(ctx), ctx.input.body);
    ctx.status = 201;
    ctx.set('Location', `/products/${product.id}`);
    ctx.body = product;
  },
});

const updateProduct = defineRoute({
  method: 'patch',
  path: '/products/{id}',
  operationId: 'updateProduct',
  summary: 'Edit a product; bumps version; If-Match "<version>" makes a stale edit a 412',
  tags,
  access: 'catalog:write',
  requiresActiveSubscription: true,
  request: { params: ProductParams, headers: IfMatchHeaders, body: UpdateProductBody },
  problems: ['CONFLICT', 'UNPROCESSABLE', 'PRECONDITION_FAILED'],
  responses: { 200: { description: 'The updated product', schema: ProductSchema } },
  handler: async (ctx) => {
    const ifMatch = ctx.input.headers['if-match'];
    const expected = ifMatch && ifMatch !== '*' ? Number(ifMatch.replace(/\D/g, '')) : undefined;
    ctx.body = await catalog.updateProduct(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body,
      expected,
    );
  },
});

const archiveProduct = defineRoute({
  method: 'delete',
  path: '/products/{id}',
  operationId: 'archiveProduct',
  summary: 'Archive a product (kept as a tombstone for delta sync; frees its sku and barcode)',
  tags,
  access: 'catalog:write',
  requiresActiveSubscription: true,
  request: { params: ProductParams },
  responses: { 204: { description: 'Archived (or already archived)' } },
  handler: async (ctx) => {
    await catalog.archiveProduct(ctx.deps, requireAuth(ctx), ctx.input.params.id);
    ctx.status = 204;
  },
});

const uploadImage = defineRoute({
  method: 'post',
  path: '/products/{id}/image',
  operationId: 'uploadProductImage',
  summary:
    'Upload the product image: multipart field "file", JPEG/PNG/WebP by content, at most 5 MB',
  description:
    'Streamed, never buffered whole. The stored name is the SHA-256 of the bytes, so imageUrl changes only ' +
    'when different bytes are uploaded. An upload is an edit: version is bumped.',
  tags,
  access: 'catalog:write',
  requiresActiveSubscription: true,
  bodyType: 'multipart',
  bodyLimit: `${MAX_IMAGE_REQUEST_BYTES / 1024}kb`,
  request: { params: ProductParams, body: ImageUploadBody },
  problems: ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'VALIDATION_FAILED'],
  responses: { 200: { description: 'The product with its new imageUrl', schema: ProductSchema } },
  handler: async (ctx) => {
    // A refusal while the client is still sending is answered by answerRefusedBodies().
    ctx.body = await uploadProductImage(ctx.deps, requireAuth(ctx), ctx.input.params.id, ctx.req);
  },
});

export const catalogRoutes = [
  listProducts,
  getProduct,
  createProduct,
  updateProduct,
  archiveProduct,
  uploadImage,
  ...categoryRoutes,
];
