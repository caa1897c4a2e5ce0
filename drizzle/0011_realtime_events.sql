-- Live updates (issue 21). Outbox ids (bigserial) are handed out at INSERT, not at COMMIT:
-- a transaction that inserts id 41 and commits after id 42 would be skipped by a reader
-- resuming "after 42". Events therefore get a second number, event_seq, assigned by the
-- relay's sequencer to committed rows only, one batch at a time under a transaction-level
-- advisory lock, so event_seq order is commit order and a reader that has seen N has seen
-- (or will never see) everything below N.
ALTER TABLE "outbox" ADD COLUMN "event_seq" bigint;--> statement-breakpoint
CREATE SEQUENCE "outbox_event_seq" AS bigint;--> statement-breakpoint
-- Rows already in the outbox at the upgrade are never sequenced (clients cannot have seen
-- them on a socket, and numbering a week of history would replay it to every live socket).
CREATE TABLE "realtime_sequencer" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"sequenced_after" bigint NOT NULL,
	CONSTRAINT "realtime_sequencer_one_row" CHECK ("id" = 1)
);--> statement-breakpoint
INSERT INTO "realtime_sequencer" ("id", "sequenced_after")
  SELECT 1, coalesce(max("id"), 0) FROM "outbox";--> statement-breakpoint
-- All three indexes start empty (event_seq is null everywhere); building them is one scan of
-- a table the retention job keeps to a few days.
CREATE UNIQUE INDEX "outbox_event_seq_idx" ON "outbox" USING btree ("event_seq") WHERE "event_seq" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "outbox_business_event_seq_idx" ON "outbox" USING btree ("business_id","event_seq") WHERE "event_seq" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "outbox_unsequenced_idx" ON "outbox" USING btree ("id") WHERE "kind" = 'event' AND "event_seq" IS NULL;--> statement-breakpoint
-- The relay LISTENs instead of polling every 500 ms: one NOTIFY per inserting statement,
-- delivered at commit (and folded into one per transaction by PostgreSQL).
CREATE FUNCTION "outbox_notify_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_insert', '');
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "outbox_notify_insert" AFTER INSERT ON "outbox"
  FOR EACH STATEMENT EXECUTE FUNCTION "outbox_notify_insert"();--> statement-breakpoint
-- Sockets of a revoked session or of a disabled / re-roled user are re-checked at once.
CREATE FUNCTION "realtime_notify_auth"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'auth_sessions' THEN
    PERFORM pg_notify('realtime_auth', 'session:' || NEW.id::text);
  ELSE
    PERFORM pg_notify('realtime_auth', 'user:' || NEW.id::text);
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "realtime_notify_session_revoked" AFTER UPDATE OF "revoked_at" ON "auth_sessions"
  FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL)
  EXECUTE FUNCTION "realtime_notify_auth"();--> statement-breakpoint
CREATE TRIGGER "realtime_notify_user_changed" AFTER UPDATE OF "status", "role" ON "users"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.role IS DISTINCT FROM NEW.role)
  EXECUTE FUNCTION "realtime_notify_auth"();
