import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import { requestMetaOf } from '../audit/audit.service.js';
import {
  Me,
  UpdateMeBody,
  UpdateUserBody,
  User,
  UserIdParams,
  UserListQuery,
  UserPage,
} from './users.schemas.js';
import { getMe, listUsers, updateMe, updateUser } from './users.service.js';

const TAGS = ['People'];

const getMeRoute = defineRoute({
  method: 'get',
  path: '/me',
  operationId: 'getMe',
  summary: 'The caller, their business and their permissions',
  tags: TAGS,
  access: 'authenticated',
  responses: { 200: { description: 'Who is calling', schema: Me } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await getMe(ctx.deps, auth);
  },
});

const patchMeRoute = defineRoute({
  method: 'patch',
  path: '/me',
  operationId: 'updateMe',
  summary: 'Change your name or password',
  description:
    'A new password needs `currentPassword` (wrong → 422) and signs out every other session ' +
    'of the user; the calling session stays signed in.',
  tags: TAGS,
  access: 'authenticated',
  bodyLimit: '16kb',
  request: { body: UpdateMeBody },
  problems: ['UNPROCESSABLE'],
  responses: { 200: { description: 'The updated caller', schema: Me } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await updateMe(ctx.deps, auth, requestMetaOf(ctx), ctx.input.body);
  },
});

const listUsersRoute = defineRoute({
  method: 'get',
  path: '/users',
  operationId: 'listUsers',
  summary: "The business's users, newest first (owner)",
  tags: TAGS,
  access: 'users:manage',
  request: { query: UserListQuery },
  responses: { 200: { description: 'A page of users', schema: UserPage } },
  handler: async (ctx) => {
    ctx.body = await listUsers(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const patchUserRoute = defineRoute({
  method: 'patch',
  path: '/users/{id}',
  operationId: 'updateUser',
  summary: "Change a user's role or status (owner)",
  description:
    'A disabled user is refused on their next request, whatever token they hold. The business ' +
    'always keeps an active owner: demoting or disabling the last one is 422.',
  tags: TAGS,
  access: 'users:manage',
  requiresActiveSubscription: true,
  request: { params: UserIdParams, body: UpdateUserBody },
  problems: ['UNPROCESSABLE'],
  responses: { 200: { description: 'The updated user', schema: User } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    ctx.body = await updateUser(
      ctx.deps,
      auth,
      requestMetaOf(ctx),
      ctx.input.params.id,
      ctx.input.body,
    );
  },
});

export const userRoutes = [getMeRoute, patchMeRoute, listUsersRoute, patchUserRoute];
