import type { AppDeps } from '../../deps.js';
import { DARAJA_HOSTS } from '../../config/mpesa.js';
import type { BusinessMpesaSettingsRow } from '../../db/schema/index.js';
import type { DarajaSettings } from '../../mpesa/daraja-client.js';
import { createMpesaProvider, type MpesaProvider } from '../../mpesa/mpesa-provider.js';
import { decryptSecret } from '../webhooks/webhook-secret.js';

/**
 * A business's own Daraja settings, decrypted. The host follows the business's environment,
 * except while the platform talks to the local simulator (development, tests): then every
 * business does too.
 */
export function businessDarajaSettings(
  deps: Pick<AppDeps, 'config'>,
  row: BusinessMpesaSettingsRow,
): DarajaSettings {
  const key = deps.config.webhooks.secretKey;
  const platform = deps.config.mpesa;
  return {
    baseUrl: platform.env === 'simulator' ? platform.baseUrl : DARAJA_HOSTS[row.environment],
    consumerKey: decryptSecret(row.consumerKeyCiphertext, key),
    consumerSecret: decryptSecret(row.consumerSecretCiphertext, key),
    shortcode: row.shortcode,
    passkey: decryptSecret(row.passkeyCiphertext, key),
    transactionType: row.type,
    partyB: row.type === 'till' ? (row.tillNumber ?? row.shortcode) : row.shortcode,
    httpTimeoutMs: platform.httpTimeoutMs,
  };
}

const providers = new WeakMap<AppDeps, Map<string, MpesaProvider>>();

/**
 * The business's M-Pesa provider, one per settings version and process: its client keeps
 * the in-process half of the single-flight token refresh; the shared token in Redis is
 * keyed by host and consumer key (one per credential set).
 */
export function businessProviderOf(deps: AppDeps, row: BusinessMpesaSettingsRow): MpesaProvider {
  let byBusiness = providers.get(deps);
  if (!byBusiness) {
    byBusiness = new Map();
    providers.set(deps, byBusiness);
  }
  const version = `${row.businessId}:${row.updatedAt.getTime()}`;
  let provider = byBusiness.get(version);
  if (!provider) {
    for (const key of byBusiness.keys()) {
      if (key.startsWith(`${row.businessId}:`)) byBusiness.delete(key);
    }
    provider = createMpesaProvider(deps, businessDarajaSettings(deps, row));
    byBusiness.set(version, provider);
  }
  return provider;
}
