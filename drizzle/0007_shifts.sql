-- Shifts and the cash drawer (API.md Part 2).
--
-- Safe on a large database: two new tables, and one nullable column on sales (metadata
-- only, no rewrite, no foreign key: a sale is never refused because of its shift). The
-- index sales_shift_idx is built CONCURRENTLY after the migrations (src/db/backfills.ts),
-- never inside this transaction where it would block sales for a scan of the whole table.
CREATE TABLE "shift_cash_movements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"shift_id" uuid NOT NULL,
	"client_request_id" uuid NOT NULL,
	"request_hash" text NOT NULL,
	"type" text NOT NULL,
	"amount" bigint NOT NULL,
	"note" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shifts" (
	"id" uuid NOT NULL,
	"business_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"cashier_id" uuid NOT NULL,
	"register" text NOT NULL,
	"request_hash" text NOT NULL,
	"opened_at" timestamp (3) with time zone NOT NULL,
	"opening_float" bigint NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"closed_at" timestamp (3) with time zone,
	"close_received_at" timestamp (3) with time zone,
	"close_sale_number" bigint,
	"closed_by" uuid,
	"counted_cash" bigint,
	"expected_cash" bigint,
	"close_note" text,
	"close_hash" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shifts_pkey" PRIMARY KEY("business_id","id")
);
--> statement-breakpoint
ALTER TABLE "sales" ADD COLUMN "shift_id" uuid;--> statement-breakpoint
ALTER TABLE "shift_cash_movements" ADD CONSTRAINT "shift_cash_movements_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shift_cash_movements" ADD CONSTRAINT "shift_cash_movements_shift_fk" FOREIGN KEY ("business_id","shift_id") REFERENCES "public"."shifts"("business_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shifts" ADD CONSTRAINT "shifts_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shifts" ADD CONSTRAINT "shifts_cashier_id_users_id_fk" FOREIGN KEY ("cashier_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shifts" ADD CONSTRAINT "shifts_closed_by_users_id_fk" FOREIGN KEY ("closed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shifts" ADD CONSTRAINT "shifts_location_business_fk" FOREIGN KEY ("location_id","business_id") REFERENCES "public"."locations"("id","business_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "shift_cash_movements_client_request_unique" ON "shift_cash_movements" USING btree ("business_id","client_request_id");--> statement-breakpoint
CREATE INDEX "shift_cash_movements_shift_idx" ON "shift_cash_movements" USING btree ("business_id","shift_id");--> statement-breakpoint
CREATE UNIQUE INDEX "shifts_open_register_unique" ON "shifts" USING btree ("business_id","location_id",lower("register")) WHERE "shifts"."status" = 'open';--> statement-breakpoint
CREATE INDEX "shifts_business_opened_idx" ON "shifts" USING btree ("business_id","opened_at","id");--> statement-breakpoint
CREATE INDEX "shifts_location_open_idx" ON "shifts" USING btree ("business_id","location_id") WHERE "shifts"."status" = 'open';
