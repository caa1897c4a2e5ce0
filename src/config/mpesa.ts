import { isIP } from 'node:net';
import { z } from 'zod';
import { forbiddenUrlWord } from '../mpesa/c2b-wire.js';
import { defineArea, integer, listOfStrings, trimmedString } from './area.js';

function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (!address || rest.length > 0) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (bits === undefined) return true;
  const max = version === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/** Sandbox's public test shortcode and passkey; the simulator accepts the same pair. */
const SANDBOX_SHORTCODE = '174379';
const SANDBOX_PASSKEY = 'bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919';
export const SIMULATOR_CREDENTIALS = {
  consumerKey: 'simulator-consumer-key',
  consumerSecret: 'simulator-consumer-secret',
};
export const DARAJA_HOSTS = {
  sandbox: 'https://sandbox.safaricom.co.ke',
  production: 'https://api.safaricom.co.ke',
} as const;
const DARAJA_CREDENTIALS = 'Daraja credentials';

/**
 * M-Pesa (Daraja STK push). Unset MPESA_ENV means: sandbox when credentials are given, else
 * the local simulator. Production never guesses between Safaricom's sandbox and real money.
 */
export const mpesaArea = defineArea({
  schema: z.object({
    MPESA_ENV: z.enum(['simulator', 'sandbox', 'production']).optional(),
    MPESA_BASE_URL: z.url().optional(),
    MPESA_CONSUMER_KEY: trimmedString.optional(),
    MPESA_CONSUMER_SECRET: trimmedString.optional(),
    MPESA_SHORTCODE: trimmedString.regex(/^\d{5,7}$/, 'must be a 5–7 digit shortcode').optional(),
    MPESA_PASSKEY: trimmedString.optional(),
    MPESA_TRANSACTION_TYPE: z.enum(['paybill', 'till']).default('paybill'),
    MPESA_PARTY_B: trimmedString.regex(/^\d{5,8}$/, 'must be a PayBill or till number').optional(),
    MPESA_CALLBACK_ALLOWLIST: listOfStrings.pipe(
      z.array(z.string().refine(isCidr, { message: 'must be a comma list of IPv4/IPv6 CIDRs' })),
    ),
    MPESA_HTTP_TIMEOUT_MS: integer(100, 60_000).default(10_000),
    MPESA_RECONCILE_AFTER_SECONDS: integer(1).default(60),
    MPESA_EXPIRE_AFTER_SECONDS: integer(10).default(600),
    MPESA_SIMULATOR_PORT: integer(0, 65535).default(3090),
    MPESA_SIMULATOR_CALLBACK_DELAY_MS: integer(0).default(1_000),
    MPESA_SIMULATOR_LATE_CALLBACK_DELAY_MS: integer(0).default(11 * 60_000),
    // Read here too (process.ts builds it): Daraja's callback URLs start with it.
    PUBLIC_URL: z.url().optional(),
  }),
  requiredInProduction: {
    MPESA_ENV: 'production, or sandbox for staging',
    MPESA_CONSUMER_KEY: DARAJA_CREDENTIALS,
    MPESA_CONSUMER_SECRET: DARAJA_CREDENTIALS,
    MPESA_SHORTCODE: DARAJA_CREDENTIALS,
    MPESA_PASSKEY: DARAJA_CREDENTIALS,
  },
  check: (env, runtime) => {
    const problems: string[] = [];
    if (
      (env.MPESA_ENV === 'sandbox' || env.MPESA_ENV === 'production') &&
      (env.MPESA_CONSUMER_KEY === undefined || env.MPESA_CONSUMER_SECRET === undefined)
    ) {
      problems.push(
        `MPESA_CONSUMER_KEY: MPESA_ENV=${env.MPESA_ENV} needs MPESA_CONSUMER_KEY and MPESA_CONSUMER_SECRET`,
      );
    }
    // M-Pesa has no off switch (without credentials the simulator stands in), so this holds
    // whenever PUBLIC_URL is set: every STK and C2B callback URL starts with it.
    const word = env.PUBLIC_URL === undefined ? undefined : forbiddenUrlWord(env.PUBLIC_URL);
    if (word !== undefined) {
      problems.push(
        `PUBLIC_URL: contains "${word}", and Daraja refuses callback URLs containing mpesa, safaricom, exe, exec, cmd, sql or query (any case); serve the API under another host or path`,
      );
    }
    if (runtime.isProduction && env.MPESA_ENV === 'simulator') {
      problems.push('MPESA_ENV: the Daraja simulator is for development and tests only');
    }
    return problems;
  },
  build: (env) => {
    const hasCredentials = env.MPESA_CONSUMER_KEY !== undefined;
    const mode = env.MPESA_ENV ?? (hasCredentials ? 'sandbox' : 'simulator');
    const simulated = mode === 'simulator';
    const shortcode = env.MPESA_SHORTCODE ?? SANDBOX_SHORTCODE;
    return {
      mpesa: {
        env: mode,
        baseUrl: (
          env.MPESA_BASE_URL ??
          (simulated ? `http://127.0.0.1:${env.MPESA_SIMULATOR_PORT}` : DARAJA_HOSTS[mode])
        ).replace(/\/+$/, ''),
        consumerKey: env.MPESA_CONSUMER_KEY ?? (simulated ? SIMULATOR_CREDENTIALS.consumerKey : ''),
        consumerSecret:
          env.MPESA_CONSUMER_SECRET ?? (simulated ? SIMULATOR_CREDENTIALS.consumerSecret : ''),
        shortcode,
        passkey: env.MPESA_PASSKEY ?? SANDBOX_PASSKEY,
        transactionType: env.MPESA_TRANSACTION_TYPE,
        /** PayBill: the shortcode itself. Till: the till number (a wrong one is ResultCode 2028). */
        partyB: env.MPESA_PARTY_B ?? shortcode,
        callbackAllowlist: env.MPESA_CALLBACK_ALLOWLIST,
        httpTimeoutMs: env.MPESA_HTTP_TIMEOUT_MS,
        reconcileAfterSeconds: env.MPESA_RECONCILE_AFTER_SECONDS,
        expireAfterSeconds: env.MPESA_EXPIRE_AFTER_SECONDS,
        simulator: {
          port: env.MPESA_SIMULATOR_PORT,
          callbackDelayMs: env.MPESA_SIMULATOR_CALLBACK_DELAY_MS,
          lateCallbackDelayMs: env.MPESA_SIMULATOR_LATE_CALLBACK_DELAY_MS,
        },
      },
    };
  },
});
