import { config as loadDotenv } from 'dotenv';
import type { z } from 'zod';
import type { ConfigArea, Runtime } from './config/area.js';
import { amqpArea } from './config/amqp.js';
import { authArea } from './config/auth.js';
import { dbArea } from './config/db.js';
import { emailArea } from './config/email.js';
import { httpArea } from './config/http.js';
import { jobsArea } from './config/jobs.js';
import { mpesaArea } from './config/mpesa.js';
import { observabilityArea } from './config/observability.js';
import { plansArea } from './config/plans.js';
import { NodeEnv, processArea } from './config/process.js';
import { redisArea } from './config/redis.js';
import { smsArea } from './config/sms.js';
import { storageArea } from './config/storage.js';
import { webhooksArea } from './config/webhooks.js';

/**
 * The whole environment, parsed once. This is the only module that reads `process.env`
 * (lint enforces it); everything else receives a `Config`. Each area of the environment
 * has its own file under `src/config/`; this entry point parses them all and reports every
 * bad variable of every area at once.
 */

export { SIMULATOR_CREDENTIALS } from './config/mpesa.js';

const AREAS = {
  process: processArea,
  http: httpArea,
  db: dbArea,
  redis: redisArea,
  auth: authArea,
  email: emailArea,
  webhooks: webhooksArea,
  storage: storageArea,
  jobs: jobsArea,
  mpesa: mpesaArea,
  sms: smsArea,
  plans: plansArea,
  observability: observabilityArea,
  amqp: amqpArea,
};

type Areas = typeof AREAS;
type Parsed = { [Name in keyof Areas]: z.output<Areas[Name]['schema']> };

function buildConfig(parsed: Parsed, runtime: Runtime) {
  return {
    ...AREAS.process.build(parsed.process, runtime),
    ...AREAS.http.build(parsed.http, runtime),
    ...AREAS.db.build(parsed.db, runtime),
    ...AREAS.redis.build(parsed.redis, runtime),
    ...AREAS.auth.build(parsed.auth, runtime),
    ...AREAS.email.build(parsed.email, runtime),
    ...AREAS.webhooks.build(parsed.webhooks, runtime),
    ...AREAS.storage.build(parsed.storage, runtime),
    ...AREAS.jobs.build(parsed.jobs, runtime),
    ...AREAS.mpesa.build(parsed.mpesa, runtime),
    ...AREAS.sms.build(parsed.sms, runtime),
    ...AREAS.plans.build(parsed.plans, runtime),
    ...AREAS.observability.build(parsed.observability, runtime),
    ...AREAS.amqp.build(parsed.amqp, runtime),
  };
}

export type Config = ReturnType<typeof buildConfig>;

// The areas' common shape, for the loops below (each area's own types stay precise above).
type AnyArea = ConfigArea<z.ZodRawShape, unknown>;
const areaEntries = Object.entries(AREAS) as unknown as [string, AnyArea][];

/** Every variable production refuses to start without, with the reason (deploy files are tested against it). */
export const PRODUCTION_REQUIRED: Readonly<Record<string, string>> = Object.assign(
  {},
  ...areaEntries.map(([, area]) => area.requiredInProduction ?? {}),
) as Record<string, string>;

/** Every variable the areas read, by name. */
export const CONFIG_VARIABLES: readonly string[] = areaEntries.flatMap(([, area]) =>
  Object.keys(area.schema.shape),
);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * `NAME=` (or only spaces) is the same as leaving NAME out, so every optional variable
 * takes its default: a copied `.env.example` lists every name with most values empty.
 */
function withoutEmptyValues(env: Record<string, string | undefined>) {
  return Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
}

/** Parses an environment (by default this process's) into a Config, naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = readProcessEnv()): Config {
  const present = withoutEmptyValues(env);
  const nodeEnv = NodeEnv.safeParse(present.NODE_ENV);
  // An unknown NODE_ENV is reported by its area; meanwhile no production rule applies.
  const runtime: Runtime = {
    nodeEnv: nodeEnv.success ? nodeEnv.data : 'development',
    isProduction: nodeEnv.success && nodeEnv.data === 'production',
  };
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [name, area] of areaEntries) {
    const result = area.schema.safeParse(present);
    if (!result.success) {
      for (const issue of result.error.issues) {
        problems.push(`${issue.path.join('.') || '(environment)'}: ${issue.message}`);
      }
      continue;
    }
    parsed[name] = result.data;
    if (runtime.isProduction) {
      for (const [variable, why] of Object.entries(area.requiredInProduction ?? {})) {
        if ((result.data as Record<string, unknown>)[variable] === undefined) {
          problems.push(`${variable}: is required in production (${why})`);
        }
      }
    }
    problems.push(...(area.check?.(result.data, runtime) ?? []));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return buildConfig(parsed as Parsed, runtime);
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
