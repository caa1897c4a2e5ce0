import type { Context } from 'koa';
import { defineRoute } from '../../http/route.js';
import { requestMetaOf } from '../audit/audit.service.js';
import {
  AuthSession,
  ForgotPasswordBody,
  LoginBody,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  ResetPasswordBody,
} from './auth.schemas.js';
import { login, register, requestPasswordReset, resetPassword } from './auth.service.js';
import { endSession, refreshSession } from './sessions.service.js';

// Auth bodies are small: anything bigger is refused before it is parsed.
const AUTH_BODY_LIMIT = '16kb';
const TAGS = ['Auth'];

/** Responses carrying tokens must never be cached by a proxy or the browser. */
const noStore = (ctx: Pick<Context, 'set'>) => ctx.set('Cache-Control', 'no-store');

const registerRoute = defineRoute({
  method: 'post',
  path: '/auth/register',
  operationId: 'register',
  summary: 'Register a business and its owner (14-day trial) and sign in',
  tags: TAGS,
  access: 'public',
  bodyLimit: AUTH_BODY_LIMIT,
  request: { body: RegisterBody },
  problems: ['CONFLICT'],
  responses: {
    201: {
      description: 'Registered and signed in',
      schema: AuthSession,
      headers: { Location: { description: 'The new user' } },
    },
  },
  handler: async (ctx) => {
    const session = await register(ctx.deps, ctx.input.body, requestMetaOf(ctx));
    noStore(ctx);
    ctx.status = 201;
    ctx.set('Location', `/users/${session.user.id}`);
    ctx.body = session;
  },
});

const loginRoute = defineRoute({
  method: 'post',
  path: '/auth/login',
  operationId: 'login',
  summary: 'Sign in with email and password',
  description:
    'An unknown email and a wrong password get the same 401 in the same time. The 6th failed ' +
    'sign-in for one email from one address within 15 minutes is 429 with Retry-After.',
  tags: TAGS,
  access: 'public',
  bodyLimit: AUTH_BODY_LIMIT,
  request: { body: LoginBody },
  problems: ['INVALID_CREDENTIALS'],
  responses: { 200: { description: 'Signed in', schema: AuthSession } },
  handler: async (ctx) => {
    const session = await login(ctx.deps, ctx.input.body, requestMetaOf(ctx));
    noStore(ctx);
    ctx.body = session;
  },
});

const refreshRoute = defineRoute({
  method: 'post',
  path: '/auth/refresh',
  operationId: 'refresh',
  summary: 'Exchange a refresh token for a new pair',
  description:
    'The token is spent. Presented again within REFRESH_REUSE_GRACE_SECONDS it gets another ' +
    'new pair (two tabs refreshing at once); presented later it revokes the whole session → 401.',
  tags: TAGS,
  access: 'public',
  bodyLimit: AUTH_BODY_LIMIT,
  request: { body: RefreshBody },
  problems: ['UNAUTHENTICATED'],
  responses: { 200: { description: 'A new token pair', schema: AuthSession } },
  handler: async (ctx) => {
    const session = await refreshSession(ctx.deps, ctx.input.body.refreshToken, requestMetaOf(ctx));
    noStore(ctx);
    ctx.body = session;
  },
});

const logoutRoute = defineRoute({
  method: 'post',
  path: '/auth/logout',
  operationId: 'logout',
  summary: "Sign out: revoke the refresh token's session",
  description: 'Access tokens of the session stop working at once. Unknown tokens also get 204.',
  tags: TAGS,
  access: 'public',
  bodyLimit: AUTH_BODY_LIMIT,
  request: { body: LogoutBody },
  responses: { 204: { description: 'Signed out' } },
  handler: async (ctx) => {
    await endSession(ctx.deps, ctx.input.body.refreshToken, requestMetaOf(ctx));
    ctx.status = 204;
  },
});

const forgotRoute = defineRoute({
  method: 'post',
  path: '/auth/password/forgot',
  operationId: 'forgotPassword',
  summary: 'Email a password-reset link (always 202)',
  description:
    'When an active account has this email, a single-use link `${APP_URL}/reset-password?token=…` ' +
    'valid for 1 hour is emailed. The answer never says whether the account exists.',
  tags: TAGS,
  access: 'public',
  bodyLimit: AUTH_BODY_LIMIT,
  request: { body: ForgotPasswordBody },
  responses: { 202: { description: 'Accepted' } },
  handler: async (ctx) => {
    await requestPasswordReset(ctx.deps, ctx.input.body.email, requestMetaOf(ctx));
    ctx.status = 202;
  },
});

const resetRoute = defineRoute({
  method: 'post',
  path: '/auth/password/reset',
  operationId: 'resetPassword',
  summary: 'Set a new password from a reset link',
  description:
    'The token is single use and expires after 1 hour (otherwise 422). Every session of the ' +
    'user is revoked; sign in again with the new password.',
  tags: TAGS,
  access: 'public',
  bodyLimit: AUTH_BODY_LIMIT,
  request: { body: ResetPasswordBody },
  problems: ['UNPROCESSABLE'],
  responses: { 204: { description: 'Password changed' } },
  handler: async (ctx) => {
    const { token, password } = ctx.input.body;
    await resetPassword(ctx.deps, token, password, requestMetaOf(ctx));
    ctx.status = 204;
  },
});

export const authRoutes = [
  registerRoute,
  loginRoute,
  refreshRoute,
  logoutRoute,
  forgotRoute,
  resetRoute,
];
