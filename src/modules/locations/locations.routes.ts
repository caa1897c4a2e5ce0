import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import {
  CreateLocationBody,
  Location,
  LocationIdParams,
  LocationListQuery,
  LocationPage,
  UpdateLocationBody,
} from './locations.schemas.js';
import * as locations from './locations.service.js';

const tags = ['Locations'];

const listLocations = defineRoute({
  method: 'get',
  path: '/locations',
  operationId: 'listLocations',
  summary: "List the business's locations (branches), oldest first",
  tags,
  access: 'locations:read',
  request: { query: LocationListQuery },
  responses: { 200: { description: 'A page of locations', schema: LocationPage } },
  handler: async (ctx) => {
    ctx.body = await locations.listLocations(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const getLocation = defineRoute({
  method: 'get',
  path: '/locations/{id}',
  operationId: 'getLocation',
  summary: 'Get a location',
  tags,
  access: 'locations:read',
  request: { params: LocationIdParams },
  responses: { 200: { description: 'The location', schema: Location } },
  handler: async (ctx) => {
    ctx.body = await locations.getLocation(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

const createLocation = defineRoute({
  method: 'post',
  path: '/locations',
  operationId: 'createLocation',
  summary: 'Open a location (branch) with its own stock',
  tags,
  access: 'locations:manage',
  requiresActiveSubscription: true,
  idempotency: 'optional',
  request: { body: CreateLocationBody },
  problems: ['CONFLICT'],
  responses: {
    201: {
      description: 'Created',
      schema: Location,
      headers: { Location: { description: 'The location URL' } },
    },
  },
  handler: async (ctx) => {
    const location = await locations.createLocation(ctx.deps, requireAuth(ctx), ctx.input.body);
    ctx.status = 201;
    ctx.set('Location', `/locations/${location.id}`);
    ctx.body = location;
  },
});

const updateLocation = defineRoute({
  method: 'patch',
  path: '/locations/{id}',
  operationId: 'updateLocation',
  summary: "Change a location's name, address, phone or eTIMS branch id",
  tags,
  access: 'locations:manage',
  requiresActiveSubscription: true,
  request: { params: LocationIdParams, body: UpdateLocationBody },
  problems: ['CONFLICT'],
  responses: { 200: { description: 'The location', schema: Location } },
  handler: async (ctx) => {
    ctx.body = await locations.updateLocation(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body,
    );
  },
});

const archiveLocation = defineRoute({
  method: 'delete',
  path: '/locations/{id}',
  operationId: 'archiveLocation',
  summary: 'Archive a location (the default location cannot be archived: 422)',
  tags,
  access: 'locations:manage',
  requiresActiveSubscription: true,
  request: { params: LocationIdParams },
  problems: ['UNPROCESSABLE'],
  responses: { 204: { description: 'Archived' } },
  handler: async (ctx) => {
    await locations.archiveLocation(ctx.deps, requireAuth(ctx), ctx.input.params.id);
    ctx.status = 204;
  },
});

export const locationRoutes = [
  listLocations,
  getLocation,
  createLocation,
  updateLocation,
  archiveLocation,
];
