import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, PRODUCTION_REQUIRED } from '../../src/config.js';

// Every deploy file must start the service it describes: the environment each container gets
// is rebuilt from the file (Kubernetes envFrom, compose interpolation) and parsed by the real
// config module. The required names come from src/config/, so a variable a new area makes
// mandatory fails here until every deploy file provides it.

const REQUIRED = Object.keys(PRODUCTION_REQUIRED);

interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: { replicas?: number; template?: { spec: PodSpec }; jobTemplate?: unknown };
}
interface PodSpec {
  containers: {
    name: string;
    env?: { name: string; value?: string }[];
    envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  }[];
}

const K8S_DIR = 'deploy/k8s';
const manifests: Manifest[] = readdirSync(K8S_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(K8S_DIR, file), 'utf8')).map(
      (document) => document.toJS() as Manifest | null,
    ),
  )
  .filter((manifest): manifest is Manifest => manifest !== null);

function find(kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is referenced but not defined in ${K8S_DIR}`);
  return found;
}

/** The environment Kubernetes gives a container: envFrom sources in order, then `env`. */
function containerEnv(container: PodSpec['containers'][number]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, find('ConfigMap', source.configMapRef.name).data);
    if (source.secretRef) {
      const secret = find('Secret', source.secretRef.name);
      Object.assign(env, secret.stringData);
      for (const [key, value] of Object.entries(secret.data ?? {})) {
        env[key] = Buffer.from(value, 'base64').toString('utf8');
      }
    }
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '';
  return env;
}

const workloads = manifests.filter((m) => m.spec?.template?.spec.containers);
const containers = workloads.flatMap((workload) =>
  workload.spec!.template!.spec.containers.map((container) => ({
    label: `${workload.kind}/${workload.metadata.name}/${container.name}`,
    env: containerEnv(container),
  })),
);

/**
 * Docker Compose interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?message}`, `${VAR?message}`, `$VAR`, `$$`. Compose applies it to the whole file
 * before it looks at which services were asked for.
 */
function interpolate(text: string, shell: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced?: string, operator?: string, argument?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = braced ?? bare ?? '';
      const value = shell[name];
      const missing = operator?.startsWith(':') ? !value : value === undefined;
      if (!operator || !missing) return value ?? '';
      if (operator.endsWith('?')) {
        throw new Error(`required variable ${name} is missing a value: ${argument ?? ''}`);
      }
      return argument ?? '';
    },
  );
}

interface ComposeFile {
  services: Record<string, { environment?: Record<string, string | number | boolean | null> }>;
}

/** A service's environment as the container sees it (a key without a value stays unset). */
function serviceEnv(file: ComposeFile, service: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(file.services[service]?.environment ?? {})
      .filter(([, value]) => value !== null)
      .map(([key, value]) => [key, String(value)]),
  );
}
const composeSource = readFileSync('docker-compose.yml', 'utf8');
const compose = (shell: Record<string, string>): ComposeFile =>
  parse(interpolate(composeSource, shell), { merge: true }) as ComposeFile;
// What a developer exports before `docker compose up api worker` (a Daraja sandbox app).
const DARAJA_SHELL = { MPESA_CONSUMER_KEY: 'sandbox-key', MPESA_CONSUMER_SECRET: 'sandbox-secret' };

describe('deploy/k8s', () => {
  it('runs the API, the worker and the migration', () => {
    expect(containers.map((container) => container.label).sort()).toEqual([
      'Deployment/backend-api-worker/worker',
      'Deployment/backend-api/api',
      'Job/backend-api-migrate/migrate',
    ]);
  });

  it.each(containers.map((container) => [container.label, container.env] as const))(
    '%s gets every production-required variable and a config that loads',
    (_, env) => {
      expect(env.NODE_ENV).toBe('production');
      expect(REQUIRED.filter((name) => !env[name]?.trim())).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow();
    },
  );

  it('writes ConfigMap and Secret values as strings (Kubernetes refuses numbers and booleans)', () => {
    for (const manifest of manifests.filter((m) => m.kind === 'ConfigMap' || m.kind === 'Secret')) {
      for (const value of Object.values({ ...manifest.data, ...manifest.stringData })) {
        expect(typeof value, manifest.metadata.name).toBe('string');
      }
    }
  });

  it('keeps files in shared storage, since API and worker pods are many', () => {
    for (const { label, env } of containers) {
      expect(loadConfig(env).storage.driver, label).toBe('s3');
    }
  });
});

describe('docker-compose.yml', () => {
  it('reads without any variable set: `docker compose up -d redis` needs no Daraja credentials', () => {
    const file = compose({});
    expect(Object.keys(file.services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'mailpit', 'api', 'worker', 'migrate']),
    );
  });

  it('gives the app services every production-required variable', () => {
    const file = compose(DARAJA_SHELL);
    for (const name of ['api', 'worker', 'migrate']) {
      const env = serviceEnv(file, name);
      expect(env.NODE_ENV, name).toBe('production');
      expect(
        REQUIRED.filter((variable) => !env[variable]?.trim()),
        name,
      ).toEqual([]);
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('without the Daraja credentials the app refuses to start and names them', () => {
    const env = serviceEnv(compose({}), 'api');
    expect(() => loadConfig(env)).toThrow(/MPESA_CONSUMER_KEY[\s\S]*MPESA_CONSUMER_SECRET/);
  });
});

describe('PRODUCTION_REQUIRED', () => {
  it('is what production refuses to start without', () => {
    expect(REQUIRED).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'JWT_SECRET',
        'WEBHOOK_SECRET_KEY',
        'MPESA_ENV',
        'MPESA_CONSUMER_KEY',
        'MPESA_CONSUMER_SECRET',
        'MPESA_SHORTCODE',
        'MPESA_PASSKEY',
      ]),
    );
    let problems: string[] = [];
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (error) {
      problems = (error as { problems: string[] }).problems;
    }
    const named = new Set(problems.map((problem) => problem.split(':')[0]));
    expect(REQUIRED.filter((name) => !named.has(name))).toEqual([]);
  });
});
