-- Branches (locations), stock per location, staff assigned to locations.
--
-- Safe on a large database: the heavy part (one Main per business, one stock level per
-- product) is two set-based INSERTs into new tables that only read the old ones (ACCESS
-- SHARE: nothing waits for them), and it runs before any ALTER of an existing table, so
-- the ACCESS EXCLUSIVE locks the ALTERs take are held only for the milliseconds until this
-- migration commits. The ALTERs are metadata-only (nullable columns, constant defaults);
-- the new foreign keys on existing tables are NOT VALID (no scan under lock). What needs a
-- pass over big tables — movements' and sales' location_id, and validating those keys — is
-- done afterwards in small batches, each its own short transaction (src/db/backfills.ts,
-- run by `pnpm db:migrate` after the migrations).
--
-- UUIDv7 made in the database, for the Main locations the trigger and this backfill create
-- (ids the server makes are v7: time-ordered). The RFC 9562 layout: 48-bit Unix ms, then
-- version 7 and the variant over random bits.
CREATE OR REPLACE FUNCTION uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT encode(
    set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
      PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
      FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;--> statement-breakpoint
CREATE TABLE "data_backfills" (
	"name" text PRIMARY KEY NOT NULL,
	"done_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "locations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"name" text NOT NULL,
	"address" text,
	"phone" text,
	"etims_branch_id" text DEFAULT '00' NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "locations_id_business_unique" UNIQUE("id","business_id")
);
--> statement-breakpoint
CREATE TABLE "stock_levels" (
	"business_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"quantity" numeric(14, 3) NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_levels_pkey" PRIMARY KEY("business_id","product_id","location_id")
);
--> statement-breakpoint
CREATE INDEX "locations_business_idx" ON "locations" USING btree ("business_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "locations_business_default_unique" ON "locations" USING btree ("business_id") WHERE "locations"."is_default";--> statement-breakpoint
CREATE UNIQUE INDEX "locations_business_name_unique" ON "locations" USING btree ("business_id",lower("name")) WHERE not "locations"."archived";--> statement-breakpoint
-- Every business has a default location from its first instant, whatever inserts it
-- (registration, the seed, tests, benchmarks): the trigger runs in the insert's transaction.
CREATE OR REPLACE FUNCTION create_main_location() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO locations (id, business_id, name, is_default, created_at, updated_at)
  VALUES (uuid_v7(), NEW.id, 'Main', true, NEW.created_at, NEW.created_at);
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "businesses_main_location" AFTER INSERT ON "businesses"
  FOR EACH ROW EXECUTE FUNCTION create_main_location();--> statement-breakpoint
INSERT INTO "locations" (id, business_id, name, is_default, created_at, updated_at)
  SELECT uuid_v7(), b.id, 'Main', true, b.created_at, b.created_at FROM "businesses" b
  WHERE NOT EXISTS (SELECT 1 FROM "locations" l WHERE l.business_id = b.id AND l.is_default);--> statement-breakpoint
-- Existing stock belongs to Main. A sale committed by a previous release after this
-- snapshot is repaired by the backfill, which recomputes Main of every product that has a
-- movement without a location (src/db/backfills.ts).
INSERT INTO "stock_levels" (business_id, product_id, location_id, quantity, updated_at)
  SELECT p.business_id, p.id, l.id, p.stock_quantity, p.updated_at
  FROM "products" p JOIN "locations" l ON l.business_id = p.business_id AND l.is_default
  WHERE p.stock_quantity <> 0 OR EXISTS (SELECT 1 FROM "stock_movements" m WHERE m.product_id = p.id);--> statement-breakpoint
ALTER TABLE "locations" ADD CONSTRAINT "locations_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stock_levels" ADD CONSTRAINT "stock_levels_product_business_fk" FOREIGN KEY ("product_id","business_id") REFERENCES "public"."products"("id","business_id") ON DELETE no action ON UPDATE no action NOT VALID;--> statement-breakpoint
ALTER TABLE "stock_levels" ADD CONSTRAINT "stock_levels_location_business_fk" FOREIGN KEY ("location_id","business_id") REFERENCES "public"."locations"("id","business_id") ON DELETE no action ON UPDATE no action NOT VALID;--> statement-breakpoint
-- Low stock is judged per location now (stock_levels); the total's partial index only cost
-- every stock change an index check.
DROP INDEX "products_low_stock_idx";--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "location_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "invites" ADD COLUMN "location_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "stock_movements" ADD COLUMN "location_id" uuid;--> statement-breakpoint
ALTER TABLE "stock_movements" ADD COLUMN "transfer_id" uuid;--> statement-breakpoint
ALTER TABLE "sales" ADD COLUMN "location_id" uuid;--> statement-breakpoint
ALTER TABLE "report_exports" ADD COLUMN "location_ids" uuid[];--> statement-breakpoint
ALTER TABLE "stock_movements" ADD CONSTRAINT "stock_movements_location_business_fk" FOREIGN KEY ("location_id","business_id") REFERENCES "public"."locations"("id","business_id") ON DELETE no action ON UPDATE no action NOT VALID;--> statement-breakpoint
ALTER TABLE "sales" ADD CONSTRAINT "sales_location_business_fk" FOREIGN KEY ("location_id","business_id") REFERENCES "public"."locations"("id","business_id") ON DELETE no action ON UPDATE no action NOT VALID;
