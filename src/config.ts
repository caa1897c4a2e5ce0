import { isIP } from 'node:net';
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';
import { buildObservabilityConfig, observabilityEnvShape } from './observability/config.js';

/**
 * The whole environment, parsed once. This is the only module that reads `process.env`
 * (lint enforces it); everything else receives a `Config`.
 */

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const listOfStrings = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

/** Cents that are whole shillings: M-Pesa only moves whole shillings. */
const wholeShillings = z.coerce
  .number()
  .int()
  .min(100)
  .refine((cents) => cents % 100 === 0, {
    message: 'must be whole shillings (a multiple of 100 cents)',
  });

function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (!address || rest.length > 0) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (bits === undefined) return true;
  const max = version === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

const DEV_JWT_SECRET = 'development-only-secret-change-me-0123456789abcdef';
// 32 bytes, base64: encrypts webhook secrets at rest outside production only.
const DEV_WEBHOOK_SECRET_KEY = 'ZGV2ZWxvcG1lbnQtb25seS13ZWJob29rLWtleS0zMmI=';

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),

  DATABASE_URL: optionalString.pipe(z.url().optional()),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(16),
  EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  MIGRATE_ON_START: booleanString.optional(),

  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,40}$/)
    .default('bapi'),

  JWT_SECRET: optionalString.refine((secret) => secret === undefined || isStrongSecret(secret), {
    message: 'must be at least 32 characters with at least 10 distinct characters',
  }),
  JWT_ISSUER: z.string().default('backend-api'),
  JWT_AUDIENCE: z.string().default('backend-api'),
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100_000).default(100),
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),

  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
  CORS_ORIGINS: listOfStrings,
  TRUST_PROXY: booleanString.default(false),
  PROXY_MAX_IPS: z.coerce.number().int().min(0).default(1),

  METRICS_TOKEN: optionalString,
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),

  SMTP_URL: optionalString.pipe(z.url().optional()),
  MAIL_FROM: z.string().default('Backend POS <no-reply@pos.local>'),
  MAIL_DIR: z.string().default('.data/mail'),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanString.default(false),

  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  STORAGE_LOCAL_DIR: z.string().min(1).default('.data/uploads'),
  /** Where uploads are spooled while being checked and hashed (default: the OS temp dir). */
  UPLOAD_TMP_DIR: optionalString,
  S3_BUCKET: optionalString,
  S3_ENDPOINT: optionalString.pipe(z.url().optional()),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  /** Path-style URLs (`endpoint/bucket/key`), as MinIO and most S3-compatible servers want. */
  S3_FORCE_PATH_STYLE: booleanString.default(true),
  // M-Pesa (Daraja). Unset MPESA_ENV means: sandbox when credentials are given, else the simulator.
  MPESA_ENV: optionalString.pipe(z.enum(['simulator', 'sandbox', 'production']).optional()),
  MPESA_BASE_URL: optionalString.pipe(z.url().optional()),
  MPESA_CONSUMER_KEY: optionalString,
  MPESA_CONSUMER_SECRET: optionalString,
  MPESA_SHORTCODE: optionalString.pipe(
    z
      .string()
      .regex(/^\d{5,7}$/, 'must be a 5–7 digit shortcode')
      .optional(),
  ),
  MPESA_PASSKEY: optionalString,
  MPESA_TRANSACTION_TYPE: z.enum(['paybill', 'till']).default('paybill'),
  MPESA_PARTY_B: optionalString.pipe(
    z
      .string()
      .regex(/^\d{5,8}$/, 'must be a PayBill or till number')
      .optional(),
  ),
  MPESA_CALLBACK_ALLOWLIST: listOfStrings.pipe(
    z.array(z.string().refine(isCidr, { message: 'must be a comma list of IPv4/IPv6 CIDRs' })),
  ),
  MPESA_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  MPESA_RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(1).default(60),
  MPESA_EXPIRE_AFTER_SECONDS: z.coerce.number().int().min(10).default(600),
  MPESA_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(3090),
  MPESA_SIMULATOR_CALLBACK_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  MPESA_SIMULATOR_LATE_CALLBACK_DELAY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(11 * 60_000),
  PLAN_MONTHLY_PRICE: wholeShillings.default(150_000),
  PLAN_ANNUAL_PRICE: wholeShillings.default(1_500_000),
  WEBHOOK_SECRET_KEY: optionalString.refine(
    (key) => key === undefined || Buffer.from(key, 'base64').length === 32,
    { message: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)' },
  ),
  WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds')
    .default('5000,300000,1800000,7200000,18000000,36000000,36000000'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_DISABLE_AFTER_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5 * 24 * 3600),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(5_000).default(500),
  OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  BULL_BOARD_USER: optionalString,
  BULL_BOARD_PASSWORD: optionalString,
  ...observabilityEnvShape,
});

/**
 * Rules across variables, checked on the raw environment so they are reported together
 * with every field-level problem.
 */
function crossCheck(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (env.STORAGE_DRIVER === 's3' && !env.S3_BUCKET?.trim()) {
    problems.push('S3_BUCKET: is required when STORAGE_DRIVER=s3');
  }
  if (
    (env.MPESA_ENV === 'sandbox' || env.MPESA_ENV === 'production') &&
    (!env.MPESA_CONSUMER_KEY?.trim() || !env.MPESA_CONSUMER_SECRET?.trim())
  ) {
    problems.push(
      `MPESA_CONSUMER_KEY: MPESA_ENV=${env.MPESA_ENV} needs MPESA_CONSUMER_KEY and MPESA_CONSUMER_SECRET`,
    );
  }
  if (env.NODE_ENV !== 'production') return problems;
  if (!env.DATABASE_URL?.trim()) {
    problems.push(
      'DATABASE_URL: is required in production (the embedded PostgreSQL is for development only)',
    );
  }
  if (!env.JWT_SECRET?.trim()) problems.push('JWT_SECRET: is required in production');
  if (env.JWT_SECRET?.trim() === DEV_JWT_SECRET)
    problems.push('JWT_SECRET: is the development default');
  if (['true', '1', 'yes'].includes(env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? '')) {
    problems.push(
      'WEBHOOK_ALLOW_PRIVATE_NETWORKS: must be false in production (it exists for development and tests only)',
    );
  }
  if (env.MPESA_ENV === 'simulator') {
    problems.push('MPESA_ENV: the Daraja simulator is for development and tests only');
  } else if (!env.MPESA_ENV?.trim()) {
    // Never guess between Safaricom's sandbox and real money.
    problems.push('MPESA_ENV: is required in production (production, or sandbox for staging)');
  }
  for (const name of [
    'MPESA_CONSUMER_KEY',
    'MPESA_CONSUMER_SECRET',
    'MPESA_SHORTCODE',
    'MPESA_PASSKEY',
  ]) {
    if (!env[name]?.trim())
      problems.push(`${name}: is required in production (Daraja credentials)`);
  }
  if (!env.WEBHOOK_SECRET_KEY?.trim()) {
    problems.push('WEBHOOK_SECRET_KEY: is required in production (32 bytes, base64)');
  }
  if (env.WEBHOOK_SECRET_KEY?.trim() === DEV_WEBHOOK_SECRET_KEY) {
    problems.push('WEBHOOK_SECRET_KEY: is the development default');
  }
  return problems;
}

function isStrongSecret(secret: string): boolean {
  return secret.length >= 32 && new Set(secret).size >= 10;
}

export type Env = z.input<typeof EnvSchema>;

function buildConfig(env: z.output<typeof EnvSchema>) {
  const port = env.PORT;
  return {
    env: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    isTest: env.NODE_ENV === 'test',
    host: env.HOST,
    port,
    publicUrl: (env.PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    logLevel:
      env.LOG_LEVEL ??
      (env.NODE_ENV === 'production' ? 'info' : env.NODE_ENV === 'test' ? 'silent' : 'debug'),
    database: {
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      embeddedDir: env.EMBEDDED_PG_DIR,
      embeddedPort: env.EMBEDDED_PG_PORT,
      migrateOnStart: env.MIGRATE_ON_START ?? env.NODE_ENV === 'development',
    },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    auth: {
      jwtSecret: env.JWT_SECRET ?? DEV_JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 24 * 3600,
      refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
      inviteTtlSeconds: 7 * 24 * 3600,
      passwordResetTtlSeconds: 3600,
      loginThrottle: {
        maxFailuresPerEmail: env.LOGIN_MAX_FAILURES,
        maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
        windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
      },
    },
    http: {
      rateLimitMax: env.RATE_LIMIT_MAX,
      corsOrigins: env.CORS_ORIGINS,
      trustProxy: env.TRUST_PROXY,
      proxyMaxIps: env.PROXY_MAX_IPS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    metricsToken: env.METRICS_TOKEN,
    mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM, dir: env.MAIL_DIR },
    webhooks: {
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      secretKey: Buffer.from(env.WEBHOOK_SECRET_KEY ?? DEV_WEBHOOK_SECRET_KEY, 'base64'),
      /** Delays before the 2nd, 3rd… attempt; after the last the delivery is dead. */
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map(Number),
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
    },
    outbox: { pollMs: env.OUTBOX_POLL_MS, retentionDays: env.OUTBOX_RETENTION_DAYS },
    /** BullMQ: how long a worker's job lock lasts, and how often lost locks are looked for. */
    jobs: {
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
    },
    bullBoard:
      env.BULL_BOARD_USER !== undefined && env.BULL_BOARD_PASSWORD !== undefined
        ? { user: env.BULL_BOARD_USER, password: env.BULL_BOARD_PASSWORD }
        : undefined,
    storage: {
      driver: env.STORAGE_DRIVER,
      localDir: env.STORAGE_LOCAL_DIR,
      tmpDir: env.UPLOAD_TMP_DIR,
      s3: {
        bucket: env.S3_BUCKET ?? '',
        endpoint: env.S3_ENDPOINT,
        region: env.S3_REGION,
        accessKeyId: env.S3_ACCESS_KEY_ID,
        secretAccessKey: env.S3_SECRET_ACCESS_KEY,
        forcePathStyle: env.S3_FORCE_PATH_STYLE,
      },
    },
    mpesa: buildMpesaConfig(env),
    plans: { monthly: env.PLAN_MONTHLY_PRICE, annual: env.PLAN_ANNUAL_PRICE },
    observability: buildObservabilityConfig(env),
  };
}

/** Sandbox's public test shortcode and passkey; the simulator accepts the same pair. */
const SANDBOX_SHORTCODE = '174379';
const SANDBOX_PASSKEY = 'bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919';
export const SIMULATOR_CREDENTIALS = {
  consumerKey: 'simulator-consumer-key',
  consumerSecret: 'simulator-consumer-secret',
};
const DARAJA_HOSTS = {
  sandbox: 'https://sandbox.safaricom.co.ke',
  production: 'https://api.safaricom.co.ke',
} as const;

function buildMpesaConfig(env: z.output<typeof EnvSchema>) {
  const hasCredentials = env.MPESA_CONSUMER_KEY !== undefined;
  const mode = env.MPESA_ENV ?? (hasCredentials ? 'sandbox' : 'simulator');
  const simulated = mode === 'simulator';
  const shortcode = env.MPESA_SHORTCODE ?? SANDBOX_SHORTCODE;
  return {
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
  };
}

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (by default this process's) into a Config, naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = readProcessEnv()): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map(
          (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
        )),
    ...crossCheck(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return buildConfig(parsed.data);
}

/** The environment of this process, with `.env` loaded first outside production and tests. */
export function readProcessEnv(): Record<string, string | undefined> {
  const nodeEnv = process.env.NODE_ENV;
  if (nodeEnv !== 'production' && nodeEnv !== 'test') {
    loadDotenv({ quiet: true });
  }
  return process.env;
}

/** Loads the config or ends the process with every problem named (for entry points). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
