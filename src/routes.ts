import type { RouteSpec } from './http/route.js';
import { opsRoutes } from './modules/ops/ops.routes.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';

/**
 * Every route of the API, by module. The app mounts these and the OpenAPI document is
 * generated from them, so a route cannot exist undocumented (or documented but absent).
 */
export const allRoutes: RouteSpec[] = [...opsRoutes, ...webhooksRoutes];
