import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { freePort } from './process.js';

/**
 * The machine's shared RabbitMQ (never stopped or reconfigured by a test: each test run
 * declares an exchange and queues of its own, named by `uniqueName`, and deletes them).
 */
export const SHARED_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A name no other test run uses (exchanges and queues on the shared broker). */
export const uniqueName = (base: string) => `${base}.${randomBytes(4).toString('hex')}`;

export interface ReceivedMessage {
  /** The AMQP message_id property (the event id). */
  messageId: string;
  routingKey: string;
  exchange: string;
  properties: ConsumeMessage['properties'];
  body: Record<string, unknown>;
}

export interface TestQueue {
  name: string;
  received: ReceivedMessage[];
  /** Stops consuming (the queue is kept when durable). */
  close: () => Promise<void>;
}

/**
 * A queue bound to `exchange` with `pattern`, consumed into `received` (each message acked
 * after it is recorded). The exchange is declared like the publisher declares it.
 */
export async function bindTestQueue(
  url: string,
  exchange: string,
  pattern: string,
  options: {
    durable?: boolean;
    autoDelete?: boolean;
    name?: string;
    arguments?: Record<string, unknown>;
  } = {},
): Promise<TestQueue> {
  const connection = await connect(url);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const queue = await channel.assertQueue(options.name ?? uniqueName('test.q'), {
    durable: options.durable ?? false,
    autoDelete: options.autoDelete ?? !(options.durable ?? false),
    arguments: options.arguments,
  });
  await channel.bindQueue(queue.queue, exchange, pattern);
  const received: ReceivedMessage[] = [];
  await channel.consume(queue.queue, (message) => {
    if (!message) return;
    received.push({
      messageId: String(message.properties.messageId),
      routingKey: message.fields.routingKey,
      exchange: message.fields.exchange,
      properties: message.properties,
      body: JSON.parse(message.content.toString('utf8')) as Record<string, unknown>,
    });
    channel.ack(message);
  });
  return {
    name: queue.queue,
    received,
    close: () => connection.close().catch(() => undefined),
  };
}

/** Runs `use` on a fresh connection, then closes it. */
export async function withAmqp<T>(url: string, use: (model: ChannelModel) => Promise<T>) {
  const connection = await connect(url);
  connection.on('error', () => undefined);
  try {
    return await use(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Whether `exchange` exists on the broker (a passive declare; 404 closes the channel). */
export async function exchangeExists(url: string, exchange: string): Promise<boolean> {
  return withAmqp(url, async (connection) => {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkExchange(exchange);
      await channel.close();
      return true;
    } catch {
      return false;
    }
  });
}

export async function deleteExchange(url: string, exchange: string): Promise<void> {
  await withAmqp(url, async (connection) => {
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange);
  }).catch(() => undefined);
}

export interface PrivateRabbit {
  url: string;
  port: number;
  nodeName: string;
  /** Starts the node (again) and resolves once it accepts AMQP connections. */
  start: () => Promise<void>;
  /** `rabbitmqctl -n <this node> stop`: this node only, never the shared one. */
  stop: () => Promise<void>;
  /** Stops the node and deletes its folder. */
  close: () => Promise<void>;
}

const execFileAsync = promisify(execFile);
const RABBIT_BIN = '/usr/lib/rabbitmq/bin';

/**
 * A RabbitMQ node of the test's own, on free ports, with its data, logs, config and Erlang
 * cookie in a temporary folder and no plugins. Stopping it leaves the machine's shared broker
 * alone. Its data survives a stop/start (durable exchanges, queues and persistent messages).
 */
export async function startPrivateRabbit(): Promise<PrivateRabbit> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bapi-rabbit-'));
  const port = await freePort();
  const distPort = await freePort();
  const nodeName = `bapi${randomBytes(3).toString('hex')}@localhost`;
  await writeFile(path.join(dir, 'enabled_plugins'), '[].\n');
  await writeFile(path.join(dir, 'rabbitmq-env.conf'), '');
  await writeFile(
    path.join(dir, 'rabbitmq.conf'),
    `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users.guest = true\n`,
  );
  const env = {
    PATH: process.env.PATH,
    HOME: dir, // its own .erlang.cookie
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbit.pid'),
  };
  let child: ChildProcess | undefined;
  const rabbit: PrivateRabbit = {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    nodeName,
    start: async () => {
      child = spawn(path.join(RABBIT_BIN, 'rabbitmq-server'), [], {
        env,
        cwd: dir,
        stdio: 'ignore',
      });
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (await acceptsAmqp(rabbit.url)) return;
        if (child.exitCode !== null) throw new Error('private rabbitmq-server exited at start');
        if (Date.now() > deadline) throw new Error('private rabbitmq-server did not start');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    stop: async () => {
      if (!child) return;
      const current = child;
      const exited =
        current.exitCode === null
          ? new Promise((resolve) => current.once('exit', resolve))
          : Promise.resolve();
      await execFileAsync(path.join(RABBIT_BIN, 'rabbitmqctl'), ['-n', nodeName, 'stop'], {
        env,
        cwd: dir,
      });
      await exited;
      child = undefined;
      // The port is closed once the node is gone.
      while (await portOpen(port)) await new Promise((resolve) => setTimeout(resolve, 100));
    },
    close: async () => {
      await rabbit.stop().catch(() => {
        // Last resort for a node rabbitmqctl cannot reach: our own child, by its pid.
        child?.kill('SIGKILL');
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
  await rabbit.start();
  return rabbit;
}

async function acceptsAmqp(url: string): Promise<boolean> {
  try {
    const connection = await connect(url, { timeout: 2_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
