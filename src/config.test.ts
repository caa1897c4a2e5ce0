import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies development defaults', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.database.url).toBeUndefined();
    expect(config.database.migrateOnStart).toBe(true);
    expect(config.auth.refreshReuseGraceSeconds).toBe(10);
    expect(config.auth.accessTokenTtlSeconds).toBe(900);
  });

  it('derives PUBLIC_URL from PORT and trims a trailing slash when given', () => {
    expect(loadConfig({ PORT: '8080' }).publicUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://pos.example.co.ke/' }).publicUrl).toBe(
      'https://pos.example.co.ke',
    );
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        NODE_ENV: 'staging',
        JWT_SECRET: 'short',
        RATE_LIMIT_MAX: '0',
        REDIS_URL: 'nope',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).problems.map((problem) => problem.split(':')[0]).sort();
    expect(names).toEqual(['JWT_SECRET', 'NODE_ENV', 'PORT', 'RATE_LIMIT_MAX', 'REDIS_URL']);
  });

  it.each([
    'https://mpesa.example.co.ke',
    'https://pos.example.co.ke/SafariCom',
    'https://exe-host.example.com',
    'https://pos.example.com/Exec',
    'https://CMD.example.com',
    'https://pos.example.com/mysql',
    'https://pos.example.com/QUERY',
  ])('refuses PUBLIC_URL %s: Daraja refuses callback URLs with that word', (url) => {
    expect(() => loadConfig({ PUBLIC_URL: url })).toThrow(/PUBLIC_URL: contains/);
    expect(() => loadConfig({ PUBLIC_URL: url, MPESA_ENV: 'simulator' })).toThrow(ConfigError);
  });

  it('accepts a PUBLIC_URL without a word Daraja refuses', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://pos.example.co.ke' }).publicUrl).toBe(
      'https://pos.example.co.ke',
    );
  });

  it('refuses production without a database, a strong JWT secret, or with private webhook targets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /DATABASE_URL[\s\S]*JWT_SECRET|JWT_SECRET[\s\S]*DATABASE_URL/,
    );
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/pos',
        JWT_SECRET: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      }),
    ).toThrow(/JWT_SECRET/);
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/pos',
        JWT_SECRET: 'prod-secret-0123456789-abcdefghijklmnopqrstuv',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      }),
    ).toThrow(/WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
  });

  it('parses lists and booleans', () => {
    const config = loadConfig({
      CORS_ORIGINS: 'https://a.example, https://b.example,',
      TRUST_PROXY: 'true',
    });
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.http.trustProxy).toBe(true);
  });
});

describe('empty values', () => {
  // The names .env.example lists (it lists every variable the service reads).
  const example = parseDotenv(readFileSync('.env.example', 'utf8'));

  it('an empty value is the default, for every variable .env.example lists', () => {
    const blank = Object.fromEntries(Object.keys(example).map((name) => [name, '']));
    expect(Object.keys(blank).length).toBeGreaterThan(60);
    expect(loadConfig(blank)).toEqual(loadConfig({}));
    expect(loadConfig({ LOG_LEVEL: '', MIGRATE_ON_START: '  ', PORT: '' })).toEqual(loadConfig({}));
  });

  it('.env.example reads the same with dotenv and with a literal KEY=VALUE loader (docker --env-file, envFrom)', () => {
    const literal = parseLiteralEnvFile(readFileSync('.env.example', 'utf8'));
    expect(literal).toEqual(example);
    expect(() => loadConfig(literal)).not.toThrow();
  });

  it('.env.example documents every variable the config module reads', () => {
    const listed = new Set(Object.keys(example));
    expect(CONFIG_VARIABLES.filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });
});

/**
 * What `docker run --env-file` and most Kubernetes envFrom tooling do: `#` starts a comment
 * only at the start of a line, and everything after the first `=` is the value, verbatim.
 */
function parseLiteralEnvFile(text: string): Record<string, string> {
  const entries: [string, string][] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const equals = line.indexOf('=');
    entries.push([line.slice(0, equals), line.slice(equals + 1)]);
  }
  return Object.fromEntries(entries);
}
