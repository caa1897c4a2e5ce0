import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import { z } from '../../lib/zod.js';
import {
  CategoryBody,
  CategoryListSchema,
  CategorySchema,
  ListCategoriesQuery,
} from './catalog.schemas.js';
import * as catalog from './category.service.js';

const tags = ['Catalog'];
const CategoryParams = z.object({ id: z.uuid() });

const listCategories = defineRoute({
  method: 'get',
  path: '/categories',
  operationId: 'listCategories',
  summary: 'List categories by name',
  tags,
  access: 'catalog:read',
  request: { query: ListCategoriesQuery },
  responses: { 200: { description: 'A page of categories', schema: CategoryListSchema } },
  handler: async (ctx) => {
    ctx.body = await catalog.listCategories(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const createCategory = defineRoute({
  method: 'post',
  path: '/categories',
  operationId: 'createCategory',
  summary: 'Create a category (names unique per business, case-insensitive)',
  tags,
  access: 'catalog:write',
  requiresActiveSubscription: true,
  idempotency: 'optional',
  request: { body: CategoryBody },
  problems: ['CONFLICT'],
  responses: {
    201: {
      description: 'Created',
      schema: CategorySchema,
      headers: { Location: { description: 'The category URL' } },
    },
  },
  handler: async (ctx) => {
    const category = await catalog.createCategory(ctx.deps, requireAuth(ctx), ctx.input.body.name);
    ctx.status = 201;
    ctx.set('Location', `/categories/${category.id}`);
    ctx.body = category;
  },
});

const updateCategory = defineRoute({
  method: 'patch',
  path: '/categories/{id}',
  operationId: 'updateCategory',
  summary: 'Rename a category',
  tags,
  access: 'catalog:write',
  requiresActiveSubscription: true,
  request: { params: CategoryParams, body: CategoryBody },
  problems: ['CONFLICT'],
  responses: { 200: { description: 'The category', schema: CategorySchema } },
  handler: async (ctx) => {
    ctx.body = await catalog.renameCategory(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body.name,
    );
  },
});

const deleteCategory = defineRoute({
  method: 'delete',
  path: '/categories/{id}',
  operationId: 'deleteCategory',
  summary: 'Delete a category; its products keep existing without a category (each is an edit)',
  tags,
  access: 'catalog:write',
  requiresActiveSubscription: true,
  request: { params: CategoryParams },
  responses: { 204: { description: 'Deleted' } },
  handler: async (ctx) => {
    await catalog.deleteCategory(ctx.deps, requireAuth(ctx), ctx.input.params.id);
    ctx.status = 204;
  },
});

export const categoryRoutes = [listCategories, createCategory, updateCategory, deleteCategory];
