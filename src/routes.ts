import type { RouteSpec } from './http/route.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { businessRoutes } from './modules/business/business.routes.js';
import { catalogRoutes } from './modules/catalog/catalog.routes.js';
import { customerRoutes } from './modules/customers/customers.routes.js';
import { filesRoutes } from './modules/files/files.routes.js';
import { inventoryRoutes } from './modules/inventory/inventory.routes.js';
import { locationRoutes } from './modules/locations/locations.routes.js';
import { inviteRoutes } from './modules/invites/invites.routes.js';
import { opsRoutes } from './modules/ops/ops.routes.js';
import { paymentRoutes } from './modules/payments/payments.routes.js';
import { receiptRoutes } from './modules/receipts/receipts.routes.js';
import { reportsRoutes } from './modules/reports/reports.routes.js';
import { smsRoutes } from './modules/sms/sms.routes.js';
import { salesRoutes } from './modules/sales/sales.routes.js';
import { shiftRoutes } from './modules/shifts/shifts.routes.js';
import { userRoutes } from './modules/users/users.routes.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';

/**
 * Every route of the API, by module. The app mounts these and the OpenAPI document is
 * generated from them, so a route cannot exist undocumented (or documented but absent).
 */
export const allRoutes: RouteSpec[] = [
  ...opsRoutes,
  ...authRoutes,
  ...userRoutes,
  ...inviteRoutes,
  ...businessRoutes,
  ...locationRoutes,
  ...catalogRoutes,
  ...inventoryRoutes,
  ...filesRoutes,
  ...salesRoutes,
  ...shiftRoutes,
  ...receiptRoutes,
  ...customerRoutes,
  ...smsRoutes,
  ...paymentRoutes,
  ...reportsRoutes,
  ...webhooksRoutes,
];
