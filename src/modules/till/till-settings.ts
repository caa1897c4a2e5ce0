import { randomBytes } from 'node:crypto';
import type { AppDeps } from '../../deps.js';
import type { BusinessMpesaSettingsRow } from '../../db/schema/index.js';
import { unprocessable } from '../../lib/errors.js';
import { findTillSettings } from './till.repo.js';

// What the payments module needs of the till settings (kept apart from till.service.ts,
// which uses the payments module's callback allowlist: no import cycle).

/**
 * Callback tokens are hex: Daraja refuses URLs containing mpesa, safaricom, exe, exec, cmd,
 * sql or query, and a base64 token would spell one of them now and then.
 */
export const newCallbackToken = () => randomBytes(32).toString('hex');

/** The business's settings, or 422: till payments need the business's own M-Pesa app. */
export async function requireTillSettings(
  deps: AppDeps,
  businessId: string,
): Promise<BusinessMpesaSettingsRow> {
  const row = await findTillSettings(deps.db, businessId);
  if (!row) {
    throw unprocessable(
      'M-Pesa is not set up for this business: the owner saves its till or paybill first (PUT /business/mpesa)',
    );
  }
  return row;
}
