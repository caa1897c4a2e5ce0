import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { sql } from 'drizzle-orm';
import { Counter, Gauge } from 'prom-client';
import { redactAmqpUrl } from '../config/amqp.js';
import { outbox } from '../db/schema/index.js';
import type { AppDeps } from '../deps.js';
import { metricsRegistry } from '../lib/metrics.js';
import { withTimeout } from '../lib/timeout.js';

// In-process counters of the worker (the worker has no HTTP listener; the API exports the
// backlog from PostgreSQL: src/observability/amqp-metrics.ts).
const publishedTotal = new Counter({
  name: 'amqp_events_published_total',
  help: 'Events RabbitMQ confirmed (publisher confirms), by this process',
  registers: [metricsRegistry],
});
const failuresTotal = new Counter({
  name: 'amqp_publish_failures_total',
  help: 'Failed AMQP connects or publishes (the events stay in the outbox and are retried)',
  labelNames: ['stage'] as const,
  registers: [metricsRegistry],
});
const connectedGauge = new Gauge({
  name: 'amqp_publisher_connected',
  help: 'Whether this process holds an open confirm channel to RabbitMQ (1) or not (0)',
  registers: [metricsRegistry],
});

type FailureStage = 'connect' | 'publish' | 'confirm' | 'database';

/** A failure on the broker's side; the connection is dropped and made again after a backoff. */
class BrokerError extends Error {
  constructor(
    readonly stage: FailureStage,
    message: string,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

type EventRow = {
  id: number;
  messageId: string;
  businessId: string | null;
  type: string;
  payload: Record<string, unknown>;
  createdAt: string | Date;
};

/** The message body: the webhook body (`{type, timestamp, data}`) plus `businessId`. */
export function amqpEventBody(row: Omit<EventRow, 'id' | 'messageId'>) {
  return {
    type: row.type,
    timestamp: new Date(row.createdAt).toISOString(),
    businessId: row.businessId,
    data: row.payload,
  };
}

export interface AmqpPublisherOptions {
  /** Default: config.amqp.url (the publisher needs one). */
  url?: string;
  /** Default: config.amqp.exchange. */
  exchange?: string;
  batchSize?: number;
  /** Idle poll when the outbox has nothing to publish. Default: config.outbox.pollMs. */
  pollMs?: number;
  /** Upper bound on the broker's confirms for one batch; past it the connection is dropped. */
  confirmTimeoutMs?: number;
  /** Connect + AMQP handshake bound. */
  connectTimeoutMs?: number;
  /** AMQP heartbeat in seconds (a silent dead connection is noticed after ~2 of them). */
  heartbeatSeconds?: number;
  /** Reconnect backoff: first delay, doubled per failure up to the cap, ±20 % jitter. */
  backoffMs?: { initial: number; max: number };
  /** Only events of these businesses (tests sharing one database); production takes all. */
  businessIds?: ReadonlySet<string>;
}

export interface AmqpPublisher {
  /** Publishes one batch and waits for its confirms; resolves to how many were confirmed. */
  publishBatch: () => Promise<number>;
  /** Stops the loop, lets the batch in flight finish, closes the connection. */
  close: () => Promise<void>;
}

/** Transaction advisory lock (with the exchange's hash): one publisher per exchange at a time. */
const PUBLISH_LOCK_KEY = 727_021;

/**
 * Publishes every `event` outbox row to RabbitMQ: the durable topic exchange, routing key =
 * event type, persistent messages on a confirm channel, `message_id` = the event id. A row
 * is marked `amqp_published_at` only once the broker confirmed it; anything unconfirmed
 * (broker down, connection lost mid-batch, nack, timeout) stays unmarked and is sent again
 * on the next connection, so delivery is at-least-once and consumers dedupe by message_id.
 *
 * Its own loop and connection: webhooks and jobs (the outbox relay, BullMQ) never wait for
 * it. With the broker down it retries with capped backoff (≤ 10 s), so the backlog flows
 * within seconds of the broker's return.
 */
export function startAmqpPublisher(
  deps: AppDeps,
  options: AmqpPublisherOptions = {},
): AmqpPublisher {
  const url = options.url ?? deps.config.amqp.url;
  if (!url) throw new Error('startAmqpPublisher needs an AMQP URL (AMQP_URL)');
  const exchange = options.exchange ?? deps.config.amqp.exchange;
  const batchSize = options.batchSize ?? 200;
  const pollMs = options.pollMs ?? deps.config.outbox.pollMs;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const backoff = options.backoffMs ?? { initial: 500, max: 10_000 };
  const broker = redactAmqpUrl(url);
  const password = passwordOf(url);
  const logger = deps.logger.child({ component: 'amqp-publisher', broker, exchange });
  const connectUrl = withHeartbeat(url, options.heartbeatSeconds ?? 10);

  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  let stopped = false;
  let failing = false;
  let failures = 0;
  let wake: (() => void) | undefined;

  /** Error text without the password, whatever the library put in it. */
  const clean = (error: unknown): string => {
    const text = error instanceof Error ? error.message : String(error);
    return password ? text.split(password).join('***') : text;
  };

  const dropConnection = async () => {
    const current = connection;
    connection = undefined;
    channel = undefined;
    connectedGauge.set(0);
    if (current) await current.close().catch(() => undefined);
  };

  const ensureChannel = async (): Promise<ConfirmChannel> => {
    if (channel) return channel;
    let opened: ChannelModel;
    try {
      opened = await withTimeout(
        connect(connectUrl, {
          timeout: connectTimeoutMs,
          clientProperties: { connection_name: 'backend-api outbox publisher' },
        }),
        connectTimeoutMs + 1_000,
      );
    } catch (error) {
      throw new BrokerError('connect', clean(error));
    }
    // Errors arrive as 'close' too; a listener keeps an 'error' from being thrown.
    opened.on('error', () => undefined);
    opened.on('close', () => {
      if (connection !== opened) return;
      connection = undefined;
      channel = undefined;
      connectedGauge.set(0);
      wake?.();
    });
    try {
      const confirm = await opened.createConfirmChannel();
      confirm.on('error', () => undefined);
      confirm.on('close', () => {
        if (channel !== confirm) return;
        // A channel-level error (e.g. the exchange redeclared differently): start over.
        void dropConnection();
      });
      // Re-declared on every (re)connect: idempotent, and a broker that lost it gets it back.
      await confirm.assertExchange(exchange, 'topic', { durable: true });
      connection = opened;
      channel = confirm;
      connectedGauge.set(1);
      return confirm;
    } catch (error) {
      await opened.close().catch(() => undefined);
      throw new BrokerError('connect', clean(error));
    }
  };

  const scope = () => {
    if (!options.businessIds) return sql``;
    const ids = [...options.businessIds];
    if (ids.length === 0) return sql`and false`;
    return sql`and business_id in (${sql.join(
      ids.map((id) => sql`${id}::uuid`),
      sql`, `,
    )})`;
  };

  /** Sends the rows and resolves with the ids the broker confirmed, and the first failure. */
  const send = async (
    confirm: ConfirmChannel,
    rows: EventRow[],
  ): Promise<{ confirmed: number[]; error?: BrokerError }> => {
    const outcome: { confirmed: number[]; error?: BrokerError } = { confirmed: [] };
    const settled: Promise<void>[] = [];
    for (const row of rows) {
      const content = Buffer.from(JSON.stringify(amqpEventBody(row)));
      let settle: () => void = () => undefined;
      settled.push(new Promise<void>((resolve) => (settle = resolve)));
      let written: boolean;
      try {
        written = confirm.publish(
          exchange,
          row.type,
          content,
          {
            persistent: true,
            messageId: row.messageId,
            contentType: 'application/json',
            type: row.type,
            timestamp: Math.floor(new Date(row.createdAt).getTime() / 1000),
            appId: 'backend-api',
          },
          (nack: unknown) => {
            if (nack) outcome.error ??= new BrokerError('publish', `nacked: ${clean(nack)}`);
            else outcome.confirmed.push(row.id);
            settle();
          },
        );
      } catch (thrown) {
        outcome.error ??= new BrokerError('publish', clean(thrown));
        settle();
        break;
      }
      // The socket's buffer is full: wait until it drains; a channel that does not drain in
      // time is given up (the rest of the batch waits for the next connection).
      if (!written && !(await drained(confirm, confirmTimeoutMs))) {
        outcome.error ??= new BrokerError('publish', 'the connection did not drain');
        break;
      }
    }
    try {
      await withTimeout(Promise.all(settled), confirmTimeoutMs);
    } catch {
      outcome.error ??= new BrokerError('confirm', `no confirm within ${confirmTimeoutMs} ms`);
    }
    return outcome;
  };

  const publishBatch = async (): Promise<number> => {
    const confirm = await ensureChannel();
    let failure: BrokerError | undefined;
    const published = await deps.db.transaction(async (tx) => {
      // Several workers: one publishes at a time, so events leave in outbox order.
      const lock = await tx.execute<{ locked: boolean }>(
        sql`select pg_try_advisory_xact_lock(${PUBLISH_LOCK_KEY}, hashtext(${exchange})) as locked`,
      );
      if (!lock.rows[0]?.locked) return 0;
      // No row locks: the outbox relay (webhooks, jobs) never waits for the broker.
      const result = await tx.execute<EventRow>(sql`
        select id, message_id as "messageId", business_id as "businessId", type, payload,
               created_at as "createdAt"
        from ${outbox}
        where kind = 'event' and amqp_published_at is null ${scope()}
        order by id
        limit ${batchSize}`);
      if (result.rows.length === 0) return 0;
      const { confirmed, error } = await send(confirm, result.rows);
      failure = error;
      if (confirmed.length > 0) {
        await tx.execute(sql`
          update ${outbox} set amqp_published_at = now()
          where id in (${sql.join(
            confirmed.map((id) => sql`${id}`),
            sql`, `,
          )})`);
      }
      return confirmed.length;
    });
    // Counted once committed: a rolled-back mark is sent again, and counted again then.
    publishedTotal.inc(published);
    if (failure) throw failure;
    return published;
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wake = undefined;
    });

  // Read through a call: `close()` may have set it while a batch was in flight.
  const isStopped = () => stopped;
  const loop = async () => {
    while (!stopped) {
      let moved = 0;
      try {
        moved = await publishBatch();
        if (moved > 0) logger.debug({ moved }, 'amqp publisher: events confirmed');
        if (failing) logger.info('amqp publisher: publishing again');
        failing = false;
        failures = 0;
      } catch (error) {
        const stage = error instanceof BrokerError ? error.stage : 'database';
        failuresTotal.inc({ stage });
        // Logged once per outage; the events wait in the outbox meanwhile.
        if (!failing) {
          logger.warn(
            { stage, error: clean(error) },
            'amqp publisher: cannot publish; events wait in the outbox, retrying',
          );
        }
        failing = true;
        if (error instanceof BrokerError) await dropConnection();
        failures++;
        if (!isStopped()) await pause(backoffDelay(failures, backoff));
        continue;
      }
      if (moved === batchSize) continue;
      if (!isStopped()) await pause(pollMs);
    }
  };

  logger.info('amqp publisher started');
  const running = loop();

  return {
    publishBatch,
    close: async () => {
      stopped = true;
      wake?.();
      await running;
      await dropConnection();
    },
  };
}

/** Exponential backoff with ±20 % jitter, capped: 500 ms, 1 s, 2 s … ≤ max. */
export function backoffDelay(failures: number, backoff: { initial: number; max: number }): number {
  const base = Math.min(backoff.max, backoff.initial * 2 ** Math.max(0, failures - 1));
  const jittered = base * (0.8 + Math.random() * 0.4);
  return Math.round(Math.min(backoff.max, jittered));
}

/** Resolves true when the channel's write buffer drained; false when it closed or `ms` passed. */
function drained(channel: ConfirmChannel, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => () => {
      clearTimeout(timer);
      channel.off('drain', onDrain);
      channel.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    const timer = setTimeout(onClose, ms);
    channel.once('drain', onDrain);
    channel.once('close', onClose);
  });
}

function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}
