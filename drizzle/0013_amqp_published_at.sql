-- RabbitMQ publisher (docs/events-rabbitmq.md): when the broker confirmed each event.
-- Metadata only, no table rewrite: a constant default is stored in the catalog (PostgreSQL
-- 11+), so every row already in the outbox reads 1970-01-01 (the epoch) ("predates the publisher; never
-- published") and dropping the default at once makes new rows NULL ("not yet published").
-- The partial index the publisher reads is built CONCURRENTLY after the migrations by the
-- backfill `0013_outbox_amqp_pending_idx` (src/db/backfills.ts): CREATE INDEX inside this
-- migration's transaction would block every outbox insert (every sale) while it scans.
ALTER TABLE "outbox" ADD COLUMN "amqp_published_at" timestamp (3) with time zone DEFAULT '1970-01-01 00:00:00+00';--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "amqp_published_at" DROP DEFAULT;
