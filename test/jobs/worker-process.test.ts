import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { closeDeps, createDeps, type AppDeps } from '../../src/deps.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { newId } from '../../src/lib/ids.js';
import { createLogger } from '../../src/lib/logger.js';
import { createWebhook } from '../../src/modules/webhooks/webhooks.service.js';
import { testEnv } from '../helpers/app.js';
import { createBusiness } from '../helpers/factories.js';
import { eventually, filePrefix } from '../helpers/jobs.js';
import { spawnTs, type SpawnedProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startPrivateRedis } from '../helpers/redis-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

// The real worker process relays every outbox row, so it gets a database of its own.
const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const databaseName = `bapi_worker_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${databaseName}` }).toString();
let deps: AppDeps;
let receiver: Receiver;
let smtp: SmtpSink;
let worker: SpawnedProcess;

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(statement);
  await client.end();
}

beforeAll(async () => {
  await admin(`create database ${databaseName}`);
  const pool = createPool({ url: databaseUrl, poolMax: 2 });
  await runMigrations(pool);
  await pool.end();
  const env = testEnv({ DATABASE_URL: databaseUrl });
  env.REDIS_PREFIX = filePrefix(env.REDIS_PREFIX!);
  const config = loadConfig(env);
  deps = createDeps({ config, logger: createLogger(config), databaseUrl });
  receiver = await startReceiver();
  smtp = await startSmtpSink();
  worker = spawnTs('src/worker.ts', { ...env, SMTP_URL: smtp.url, LOG_LEVEL: 'info' });
});

afterAll(async () => {
  if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await receiver.close();
  await smtp.close();
  await closeDeps(deps);
  await admin(`drop database if exists ${databaseName} with (force)`);
});

describe('the worker process', () => {
  it('relays committed events and emails to their peers, then shuts down cleanly on SIGTERM', async () => {
    const business = await createBusiness(deps);
    const webhook = await createWebhook(deps, business.owner.caller, {
      url: receiver.url,
      events: ['sale.created'],
    });
    receiver.secret = webhook.secret;
    const eventId = newId();
    const to = `worker-${newId()}@example.test`;
    await deps.db.transaction(async (tx) => {
      await writeOutbox(tx, [
        {
          kind: 'event',
          type: 'sale.created',
          businessId: business.id,
          messageId: eventId,
          payload: { id: newId() },
        },
        {
          kind: 'email',
          type: 'password-reset',
          businessId: business.id,
          payload: {
            to,
            name: 'Amina',
            resetUrl: `${deps.config.publicUrl}/reset-password?token=t`,
            expiresAt: new Date().toISOString(),
          },
        },
      ]);
    });
    await eventually(() => receiver.received.length === 1, 30_000, 'the webhook');
    expect(receiver.received[0]).toMatchObject({ id: eventId, verified: true });
    await eventually(
      () => smtp.messages.some((message) => message.to.includes(to)),
      30_000,
      'the email',
    );

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('shutdown complete');
  }, 90_000); // spawns real processes: tsx start-up is slow on a busy 2-core box

  it('refuses to run on a Redis that may evict keys (exit 78, naming the policy)', async () => {
    // An eviction policy silently drops BullMQ's jobs and locks: the worker must not start.
    const redis = await startPrivateRedis({ maxmemoryPolicy: 'allkeys-lru' });
    try {
      const env = testEnv({ DATABASE_URL: databaseUrl });
      const refused = spawnTs('src/worker.ts', {
        ...env,
        REDIS_URL: redis.url,
        LOG_LEVEL: 'info',
      });
      expect(await refused.exited).toBe(78);
      expect(refused.output()).toContain('maxmemory-policy is allkeys-lru');
      expect(refused.output()).not.toContain('worker started');
    } finally {
      await redis.close();
    }
  }, 90_000);
});
