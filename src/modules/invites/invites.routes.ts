import { requireAuth, type AuthContext } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import { scopeOf } from '../../db/tenant-scope.js';
import { requestMetaOf, type RequestMeta } from '../audit/audit.service.js';
import { AuthSession } from '../auth/auth.schemas.js';
import {
  AcceptInviteBody,
  CreateInviteBody,
  Invite,
  InviteIdParams,
  InviteListQuery,
  InvitePage,
} from './invites.schemas.js';
import { acceptInvite, createInvite, listInvites, revokeInvite } from './invites.service.js';

const TAGS = ['People'];

const actorOf = (auth: AuthContext, meta: RequestMeta) => ({
  userId: auth.userId,
  role: auth.role,
  locationIds: auth.locationIds,
  permissions: auth.permissions,
  meta,
});

const createInviteRoute = defineRoute({
  method: 'post',
  path: '/invites',
  operationId: 'createInvite',
  summary: 'Invite someone by email (7 days)',
  description:
    'Managers may invite cashiers; owners managers too (a manager inviting a manager is 403). ' +
    'Emails `${PUBLIC_URL}/invite/accept?token=…`. A new invite for the same email replaces a ' +
    'pending one; an email that already has an account is 409.',
  tags: TAGS,
  access: 'invites:cashier',
  requiresActiveSubscription: true,
  idempotency: 'optional',
  bodyLimit: '16kb',
  request: { body: CreateInviteBody },
  problems: ['CONFLICT'],
  responses: {
    201: {
      description: 'Invited',
      schema: Invite,
      headers: { Location: { description: 'The invite' } },
    },
  },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    const invite = await createInvite(
      ctx.deps,
      scopeOf(auth),
      actorOf(auth, requestMetaOf(ctx)),
      ctx.input.body,
    );
    ctx.status = 201;
    ctx.set('Location', `/invites/${invite.id}`);
    ctx.body = invite;
  },
});

const listInvitesRoute = defineRoute({
  method: 'get',
  path: '/invites',
  operationId: 'listInvites',
  summary: "The business's invites, newest first",
  tags: TAGS,
  access: 'invites:cashier',
  request: { query: InviteListQuery },
  responses: { 200: { description: 'A page of invites', schema: InvitePage } },
  handler: async (ctx) => {
    ctx.body = await listInvites(ctx.deps, scopeOf(requireAuth(ctx)), ctx.input.query);
  },
});

const revokeInviteRoute = defineRoute({
  method: 'delete',
  path: '/invites/{id}',
  operationId: 'revokeInvite',
  summary: 'Revoke an invite (its link stops working)',
  description:
    'Managers may revoke cashier invites only. Revoking twice is a no-op; an accepted invite is 422.',
  tags: TAGS,
  access: 'invites:cashier',
  requiresActiveSubscription: true,
  request: { params: InviteIdParams },
  problems: ['UNPROCESSABLE'],
  responses: { 204: { description: 'Revoked' } },
  handler: async (ctx) => {
    const auth = requireAuth(ctx);
    await revokeInvite(
      ctx.deps,
      scopeOf(auth),
      actorOf(auth, requestMetaOf(ctx)),
      ctx.input.params.id,
    );
    ctx.status = 204;
  },
});

const acceptInviteRoute = defineRoute({
  method: 'post',
  path: '/invites/accept',
  operationId: 'acceptInvite',
  summary: 'Accept an invite: create the account and sign in',
  description:
    'The token is the one in the invite link, exactly. Invalid, used, revoked or expired → 422.',
  tags: TAGS,
  access: 'public',
  bodyLimit: '16kb',
  request: { body: AcceptInviteBody },
  problems: ['UNPROCESSABLE', 'CONFLICT'],
  responses: {
    201: {
      description: 'Account created and signed in',
      schema: AuthSession,
      headers: { Location: { description: 'The new user' } },
    },
  },
  handler: async (ctx) => {
    const session = await acceptInvite(ctx.deps, ctx.input.body, requestMetaOf(ctx));
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 201;
    ctx.set('Location', `/users/${session.user.id}`);
    ctx.body = session;
  },
});

export const inviteRoutes = [
  createInviteRoute,
  listInvitesRoute,
  revokeInviteRoute,
  acceptInviteRoute,
];
